/** Why the gateway refused: an HTTP status and a stable reason, recorded with the access. */
export class Refusal extends Error {
  constructor(
    readonly status: 401 | 403 | 400 | 404 | 405 | 502 | 503,
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}
