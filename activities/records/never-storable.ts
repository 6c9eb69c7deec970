/**
 * Whether the database refused a write for its data, so that every retry would fail the same
 * way: SQLSTATE class 22 (data exception), or values the client refuses before sending (an
 * invalid date).
 */
export function neverStorable(error: unknown): boolean {
  if (error instanceof RangeError) return true;
  if ((error as Error)?.name === 'PrismaClientValidationError') return true;
  return sqlState(error)?.startsWith('22') ?? false;
}

type DriverCause = { originalCode?: string };

/** Prisma with a driver adapter nests PostgreSQL's code under `meta`; a bare driver error carries it as `cause`. */
function sqlState(error: unknown): string | undefined {
  const cause =
    (error as { meta?: { driverAdapterError?: { cause?: DriverCause } } })?.meta?.driverAdapterError?.cause ?? (error as { cause?: DriverCause })?.cause;
  return cause?.originalCode;
}
