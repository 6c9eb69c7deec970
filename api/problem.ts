import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { RateLimited } from '../db/rate-limit.js';

/** An RFC 9457 problem: thrown anywhere in a route, written by `problemHandler`. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    /** Response headers the problem needs (Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }

  /** A problem type URI per title, so clients can switch on it. */
  get type(): string {
    return `urn:imaging-access-review:problem:${this.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  }
}

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  reason: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export function invalidInput(error: z.ZodError): Problem {
  return new Problem(400, 'Invalid request', 'The request does not match the schema; nothing was changed.', {
    errors: error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
  });
}

/** 429 with Retry-After: a per-user limit was reached; nothing was changed or recorded. */
export function rateLimitedProblem(limited: RateLimited): Problem {
  return new Problem(
    429,
    'Too many requests',
    `At most ${limited.perMinute} ${limited.scope} a minute per user; retry in ${limited.retryAfterSeconds} s. Nothing was changed.`,
    { reason: 'RATE_LIMITED', retryAfterSeconds: limited.retryAfterSeconds },
    { 'Retry-After': String(limited.retryAfterSeconds) },
  );
}

export function parseOr400<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidInput(parsed.error);
  return parsed.data;
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new Problem(404, 'Not found', `No route for ${req.method} ${req.path}.`));
};

interface BodyParserError {
  type?: string;
  status?: number;
}

export function problemHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let problem: Problem;
    const parserError = error as BodyParserError;
    if (error instanceof Problem) problem = error;
    else if (error instanceof RateLimited) problem = rateLimitedProblem(error);
    else if (parserError?.type === 'entity.too.large') problem = new Problem(413, 'Body too large', 'The request body exceeds the limit; nothing was changed.');
    else if (parserError?.type === 'entity.parse.failed') problem = new Problem(400, 'Malformed JSON', 'The body is not valid JSON; nothing was changed.');
    else if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') problem = new Problem(415, 'Unsupported encoding');
    else {
      // Unknown failures are logged with the route only: request bodies may carry patient data.
      log.error(
        { err: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error), route: req.path },
        'unhandled error',
      );
      problem = new Problem(500, 'Internal error', 'The server failed; nothing is assumed to have changed. Retry, or report the time.');
    }
    res.set(problem.headers);
    // RFC 9110: every 401 names the scheme it wants.
    if (problem.status === 401 && !res.get('WWW-Authenticate')) res.set('WWW-Authenticate', 'Bearer');
    res
      .status(problem.status)
      .type('application/problem+json')
      .json({ type: problem.type, title: problem.title, status: problem.status, detail: problem.detail, instance: req.originalUrl, ...problem.extensions });
  };
}
