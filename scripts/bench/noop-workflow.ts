/** The baseline for bench:cycle: a workflow that starts and returns. */
export async function noopWorkflow(): Promise<string> {
  return 'done';
}
