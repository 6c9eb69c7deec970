import { SignJWT } from 'jose';
import { PACS_TOKEN_TYPE, pacsTokenPayload, type PacsTokenClaims } from '../contracts/pacs-token.js';
import { SIGNING_ALG, type ActiveKey } from './signing-keys.js';

// Callers name the claims where they name the signer.
export type { PacsTokenClaims } from '../contracts/pacs-token.js';

/** The credential the PACS gateway checks on every image request. */
export async function signPacsToken(claims: PacsTokenClaims, key: ActiveKey): Promise<string> {
  return new SignJWT(pacsTokenPayload(claims)).setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: PACS_TOKEN_TYPE }).sign(key.key);
}
