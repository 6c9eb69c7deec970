// How a caller presents a token, to the API and to the gateway alike: RFC 6750 §2.1, in the
// Authorization header only (never a query parameter, which ends up in logs), holding one
// compact JWS and nothing else.
const BEARER_JWT = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;

/** The compact JWT in an `Authorization: Bearer …` header, or undefined when the header holds anything else. */
export function bearerJwt(authorization: string | undefined): string | undefined {
  return BEARER_JWT.exec(authorization ?? '')?.[1];
}
