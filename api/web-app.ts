import express, { Router, type RequestHandler } from 'express';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { AppConfig } from '../config/config.js';

/** The languages the web app has message files for; the first is the default. */
export const WEB_LANGUAGES = ['en', 'zh-CN'] as const;

/** Where `vite build` puts the web app when WEB_DIST_DIR does not say otherwise. */
export const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

/** The API's own paths: the web app's client-side routes never answer for them. */
const API_PATHS = /^\/(api|auth|\.well-known|healthz|openapi\.json)(\/|$)/;

/**
 * Security headers on every answer, pages and JSON alike. The CSP allows scripts, styles and
 * connections from this origin only, plus connections to the PACS gateway (the viewer fetches
 * renderings there with the PACS token, and shows them as blob: URLs) and to the OIDC issuer; no inline code, no
 * framing, no <base>, forms post here only.
 */
export function securityHeaders(config: AppConfig): RequestHandler {
  // The issuer too when the page signs in there: it fetches the discovery document and
  // exchanges the code for tokens itself (authorization code with PKCE).
  const issuer = config.auth.kind === 'oidc' && config.auth.oidc.web ? new URL(config.auth.oidc.issuer).origin : null;
  const connect = ["'self'", ...(config.web.gatewayUrl ? [config.web.gatewayUrl] : []), ...(issuer ? [issuer] : [])].join(' ');
  const csp = [
    "default-src 'self'",
    "img-src 'self' blob: data:",
    `connect-src ${connect}`,
    "script-src 'self'",
    "style-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
  return (_req, res, next) => {
    res.set({ 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  };
}

/** What GET /api/web-config answers (documented in the OpenAPI document). */
export const webConfigSchema = z.strictObject({
  gatewayUrl: z.string().url().nullable(),
  temporalUiUrl: z.string().url().nullable(),
  auth: z.enum(['dev-login', 'oidc']),
  oidcIssuer: z.string().url().optional(),
  /** The public client the page signs in as, with PKCE (no secret), and the scope it asks for. */
  oidcClientId: z.string().optional(),
  oidcScope: z.string().optional(),
  /** The access token's claims the API reads the roles and the username from. */
  oidcRolesClaim: z.string().optional(),
  oidcUsernameClaim: z.string().optional(),
  languages: z.array(z.enum(WEB_LANGUAGES)),
  /** The longest break-glass grant the API allows (BREAK_GLASS_MAX_MINUTES): the form's default and limit. */
  breakGlassMaxMinutes: z.number().int(),
});

/** GET /api/web-config: what the page needs before anyone signs in. Public; names nothing secret. */
export function webConfigRoutes(config: AppConfig): Router {
  const router = Router();
  const body: z.infer<typeof webConfigSchema> = {
    gatewayUrl: config.web.gatewayUrl,
    temporalUiUrl: config.web.temporalUiUrl,
    auth: config.auth.kind,
    ...(config.auth.kind === 'oidc'
      ? {
          oidcIssuer: config.auth.oidc.issuer,
          ...(config.auth.oidc.web ? { oidcClientId: config.auth.oidc.web.clientId, oidcScope: config.auth.oidc.web.scope } : {}),
          oidcRolesClaim: config.auth.oidc.rolesClaim,
          oidcUsernameClaim: config.auth.oidc.usernameClaim,
        }
      : {}),
    languages: [...WEB_LANGUAGES],
    breakGlassMaxMinutes: config.breakGlass.maxMinutes,
  };
  router.get('/api/web-config', (_req, res) => {
    res.json(body);
  });
  return router;
}

/**
 * The built web app at `/`: its files, and index.html for any other GET that is not the API's
 * (the page's own routes, such as /requests/123, on a reload). Mounted after the API's routes,
 * so it can never shadow one. Without a build, nothing is served and the API answers 404.
 */
export function webAppFiles(config: AppConfig): RequestHandler[] {
  const dir = path.resolve(config.web.distDir ?? DEFAULT_WEB_DIST_DIR);
  const index = path.join(dir, 'index.html');
  const files = express.static(dir, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    setHeaders(res, file) {
      // Vite names built assets by content hash: they never change under the same name.
      if (file.startsWith(path.join(dir, 'assets') + path.sep)) res.set('Cache-Control', 'public, max-age=31536000, immutable');
      else res.set('Cache-Control', 'no-cache');
    },
  });
  const guarded: RequestHandler = (req, res, next) => {
    if (API_PATHS.test(req.path)) return next();
    files(req, res, next);
  };
  const fallback: RequestHandler = (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || API_PATHS.test(req.path)) return next();
    // A missing asset (or any file-like path) is a 404, not the page: a script answered with HTML fails obscurely.
    if (req.path.startsWith('/assets/') || path.extname(req.path) !== '') return next();
    if (!req.accepts('html') || !existsSync(index)) return next();
    res.set('Cache-Control', 'no-cache').sendFile(index);
  };
  return [guarded, fallback];
}
