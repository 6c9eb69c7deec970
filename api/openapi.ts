import { z } from 'zod';
import {
  accessRequestInputSchema,
  accessRequestListSchema,
  breakGlassInputSchema,
  cancelInputSchema,
  devLoginResponseSchema,
  devLoginSchema,
  healthSchema,
  imageAccessQuerySchema,
  reviewInputSchema,
  revokeInputSchema,
  studyLookupQuerySchema,
  tokenResponseSchema,
} from './schemas.js';
import { accessLogSchema } from '../contracts/access-log.js';
import { replayReportSchema } from '../contracts/replay-report.js';
import { studyLookupSchema } from '../contracts/study-lookup.js';
import {
  freezeInputSchema,
  freezeListSchema,
  freezeViewSchema,
  FREEZE_ID_PATTERN,
  liftDecisionInputSchema,
  liftRequestInputSchema,
} from '../contracts/freeze.js';
import {
  assembleTeamInputSchema,
  declareIncidentInputSchema,
  incidentListSchema,
  incidentReportSchema,
  incidentViewSchema,
  INCIDENT_ID_PATTERN,
  notifyInputSchema,
  signOffInputSchema,
} from '../contracts/incident.js';
import { accessRequestViewSchema, reviewAnswerSchema } from '../contracts/access-request-view.js';
import { ACCESS_REQUEST_ID_PATTERN } from '../contracts/identifiers.js';
import { timelineSchema } from '../contracts/case-timeline.js';
import { LEAK_TRACE_MAX_BYTES, leakTraceSchema, RENDERED_LEAK_MEDIA_TYPES } from '../contracts/leak-trace.js';
import { problemSchema } from './problem.js';
import { webConfigSchema } from './web-app.js';

const json = (schema: z.ZodType) => ({ 'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) } });
const problem = { description: 'RFC 9457 problem', content: { 'application/problem+json': { schema: z.toJSONSchema(problemSchema) } } };
const rateLimited = {
  ...problem,
  description: 'A per-user limit was reached; nothing was changed or recorded (RFC 9457 problem)',
  headers: { 'Retry-After': { description: 'Seconds until a retry can succeed', schema: { type: 'integer', minimum: 1 } } },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: ACCESS_REQUEST_ID_PATTERN.source } };
const secured = { security: [{ bearer: [] }] };
const incidentIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: INCIDENT_ID_PATTERN.source } };
const incidentDetailSchema = incidentViewSchema.extend({ affectedPatients: z.array(z.string()), affectedStudies: z.array(z.string()) });
const freezeIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: FREEZE_ID_PATTERN.source } };

/** A raw file body: each media type as binary content, at most `maxBytes`. */
function fileContent({ mediaTypes, maxBytes }: { mediaTypes: readonly string[]; maxBytes: number }): object {
  return Object.fromEntries(mediaTypes.map((type) => [type, { schema: { type: 'string', contentMediaType: type, maxLength: maxBytes } }]));
}

/** A query schema's fields as OpenAPI query parameters, each with its own JSON Schema. */
function queryParams(schema: z.ZodObject, required: readonly string[] = []): object[] {
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: 'query',
    required: required.includes(name),
    schema: z.toJSONSchema(field as z.ZodType, { io: 'input', unrepresentable: 'any' }),
  }));
}

interface Operation {
  summary: string;
  body?: z.ZodType;
  /** A file as the body instead of JSON: its media types and largest size. */
  fileBody?: { mediaTypes: readonly string[]; maxBytes: number };
  response: [number, z.ZodType | null];
  params?: object[];
  public?: boolean;
  /** Per-user limit: 429 with Retry-After when reached. */
  rateLimited?: boolean;
}

/** Every route the API serves; a test walks the Express router and compares. */
export function routeTable(maxDurationMinutes = 480, breakGlassMaxMinutes = 60): Record<string, Record<string, Operation>> {
  return {
    '/auth/dev-login': {
      post: {
        summary: 'Log in as a seeded demo user (embedded default only)',
        body: devLoginSchema,
        response: [200, devLoginResponseSchema],
        public: true,
        rateLimited: true,
      },
    },
    '/api/access-requests': {
      post: {
        summary: 'Ask for access to imaging studies (clinicians). Optional Idempotency-Key header.',
        body: accessRequestInputSchema(maxDurationMinutes),
        response: [201, accessRequestViewSchema],
        rateLimited: true,
        params: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
      },
      get: {
        summary: 'List the access requests you may see',
        response: [200, accessRequestListSchema],
        params: ['status', 'kind', 'retroStatus', 'limit', 'cursor'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
      },
    },
    '/api/break-glass': {
      post: {
        summary:
          'Emergency access, granted at once without review (clinicians): a short grant whose tokens carry purpose of use BTG, ' +
          'reviewed afterwards by two people within a window; refused for frozen targets, a few per clinician per day',
        body: breakGlassInputSchema(breakGlassMaxMinutes),
        response: [201, accessRequestViewSchema],
        rateLimited: true,
        params: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
      },
    },
    '/api/access-requests/{id}/image-accesses': {
      get: {
        summary: 'Every gateway request under this grant, served or refused, oldest first (whoever may read the request; break-glass reviewers above all)',
        response: [200, accessLogSchema],
        params: [idParam],
      },
    },
    '/api/access-requests/{id}/retro-reviews': {
      post: {
        summary: 'Review a break-glass afterwards (supervisors, privacy officers): justified by two approvals, unjustified by one denial with a comment',
        body: reviewInputSchema,
        response: [201, accessRequestViewSchema],
        params: [idParam],
        rateLimited: true,
      },
    },
    '/api/access-requests/{id}': {
      get: { summary: 'One access request with its reviews and grant', response: [200, accessRequestViewSchema], params: [idParam] },
    },
    '/api/access-requests/{id}/reviews': {
      post: {
        summary:
          'Approve or deny (supervisors, privacy officers). Optional Idempotency-Key header: a retry of the same review is answered 200 from the record.',
        body: reviewInputSchema,
        response: [201, reviewAnswerSchema],
        rateLimited: true,
        params: [idParam, { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
      },
    },
    '/api/access-requests/{id}/revoke': {
      post: {
        summary: 'Revoke an active grant (requester, its reviewers, security officers)',
        body: revokeInputSchema,
        response: [200, accessRequestViewSchema],
        params: [idParam],
      },
    },
    '/api/access-requests/{id}/cancel': {
      post: { summary: 'Withdraw a pending request (requester)', body: cancelInputSchema, response: [200, accessRequestViewSchema], params: [idParam] },
    },
    '/api/access-requests/{id}/tokens': {
      post: { summary: 'A short-lived PACS token for an active grant (requester)', response: [201, tokenResponseSchema], params: [idParam], rateLimited: true },
    },
    '/api/events': {
      get: {
        summary:
          'Server-sent events (text/event-stream, read with fetch: the Authorization header is needed): `access-request` {id, status, updatedAt} ' +
          'when a request you may see changes; `resync` when too much changed at once; a heartbeat comment every 15 s; ends when the token expires. ' +
          'A few open streams per user and process (429 beyond)',
        response: [200, null],
        rateLimited: true,
      },
    },
    '/api/web-config': {
      get: {
        summary: 'What the web app needs before sign-in: the PACS gateway and Temporal UI addresses, the way to sign in, the languages',
        response: [200, webConfigSchema],
        public: true,
      },
    },
    '/api/cases': {
      get: {
        summary: 'Search cases (auditors only, read-only)',
        response: [200, accessRequestListSchema],
        params: ['requester', 'reviewer', 'study', 'patient', 'status', 'purpose', 'from', 'to', 'limit', 'cursor'].map((name) => ({
          name,
          in: 'query',
          required: false,
          schema: { type: 'string' },
        })),
      },
    },
    '/api/cases/{id}/timeline': {
      get: {
        summary: 'A case in time order: workflow history (live or archived), records, gateway accesses (auditors only)',
        response: [200, timelineSchema],
        params: [idParam],
      },
    },
    '/api/cases/{id}/audit-events': {
      get: { summary: 'The case’s audit events as a FHIR R4 Bundle of AuditEvent (IHE BALP style; auditors only)', response: [200, null], params: [idParam] },
    },
    '/api/cases/{id}/replay': {
      get: {
        summary:
          'Replay the case’s recorded workflow history (live or archived) with the current workflow code: ' +
          'does it reproduce the recorded decisions? (auditors only)',
        response: [200, replayReportSchema],
        params: [idParam],
        rateLimited: true,
      },
    },
    '/api/image-accesses': {
      get: {
        summary:
          'Who accessed a study, or any study of a patient: every gateway request under any grant, served or refused, oldest first, ' +
          'in an optional time window (auditors and security officers). Exactly one of study or patient',
        response: [200, accessLogSchema],
        params: queryParams(imageAccessQuerySchema),
      },
    },
    '/api/leak-traces': {
      post: {
        summary:
          'Trace a leaked file to the serving that produced it (security officers and auditors). The body is the file itself: a rendered image ' +
          '(image/jpeg, image/png) is traced by its serving mark, even re-encoded, scaled down or with the band cropped off. `matched` is null unless ' +
          'one serving clears the threshold and beats every other by the margin. 400 FILE_NOT_AN_IMAGE for bytes that do not decode, 413 beyond ' +
          `${LEAK_TRACE_MAX_BYTES / 1024 / 1024} MiB, 415 for other types (DICOM files: to come). ` +
          "Recorded in the audit chain (leak.traced: the file's SHA-256 and the serving named)",
        fileBody: { mediaTypes: RENDERED_LEAK_MEDIA_TYPES, maxBytes: LEAK_TRACE_MAX_BYTES },
        response: [200, leakTraceSchema],
      },
    },
    '/api/studies': {
      get: {
        summary:
          'The studies the PACS files under an accession number for the given patient (clinicians, to fill in a request); ' + 'exact match, no wildcards',
        response: [200, studyLookupSchema],
        params: queryParams(studyLookupQuerySchema, ['accessionNumber', 'patientId']),
        rateLimited: true,
      },
    },
    '/api/freezes': {
      post: {
        summary:
          'Freeze access by patient, study, user, department or everything (security officers): the gateway refuses matching grants within its bound, ' +
          'they are revoked and recorded, and new requests, reviews and tokens are refused (423 ACCESS_FROZEN) until two people lift it',
        body: freezeInputSchema,
        response: [201, freezeViewSchema],
      },
      get: { summary: 'Every freeze, newest first (security officers, privacy officers, auditors)', response: [200, freezeListSchema] },
    },
    '/api/freezes/{id}/lift-request': {
      post: {
        summary: 'Ask for a freeze to be lifted (security officers, privacy officers); a second person must confirm',
        body: liftRequestInputSchema,
        response: [200, freezeViewSchema],
        params: [freezeIdParam],
      },
    },
    '/api/freezes/{id}/lift-decision': {
      post: {
        summary: 'Confirm or refuse a lift asked for by someone else (security officers, privacy officers; a security officer among the two)',
        body: liftDecisionInputSchema,
        response: [200, freezeViewSchema],
        params: [freezeIdParam],
      },
    },
    '/api/incidents': {
      post: {
        summary:
          'Declare an incident with its suspected scope (security officers): its clocks start (team, containment, regulator, individuals, ' +
          "HIPAA's outer bound), each reminded and escalated by e-mail, each recorded as met or missed",
        body: declareIncidentInputSchema,
        response: [201, incidentViewSchema],
        params: [{ name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
      },
      get: { summary: 'Every incident, newest first (security officers, privacy officers, auditors)', response: [200, incidentListSchema] },
    },
    '/api/incidents/{id}': {
      get: {
        summary: 'One incident, with the patients and studies its scope affects as the records say',
        response: [200, incidentDetailSchema],
        params: [incidentIdParam],
      },
    },
    '/api/incidents/{id}/team': {
      post: {
        summary: 'Assemble the incident team (security and privacy officers): meets the team clock',
        body: assembleTeamInputSchema,
        response: [200, incidentViewSchema],
        params: [incidentIdParam],
      },
    },
    '/api/incidents/{id}/containment': {
      post: {
        summary:
          'Contain the incident (security officers): freezes every patient, study and user in scope no freeze already stops; meets the containment clock',
        response: [200, incidentViewSchema],
        params: [incidentIdParam],
      },
    },
    '/api/incidents/{id}/notifications': {
      post: {
        summary:
          'Notify the regulator (e-mail, by SMTP when configured) or every affected patient (letter, SMS or app, through the outbox); ' +
          'each recorded with time, channel and content',
        body: notifyInputSchema,
        response: [200, incidentViewSchema],
        params: [incidentIdParam, { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string' } }],
      },
    },
    '/api/incidents/{id}/sign-offs': {
      post: {
        summary: 'Sign the incident off: the second sign-off by another person closes it (a security officer among the two; only once contained)',
        body: signOffInputSchema,
        response: [200, incidentViewSchema],
        params: [incidentIdParam],
      },
    },
    '/api/incidents/{id}/leaked-files': {
      post: {
        summary:
          'Trace a leaked file for the incident (security and privacy officers): traced as POST /api/leak-traces does; what it matched is ' +
          'recorded on the incident (incident.leak-traced) and adds its study, patient and viewer to the scope',
        fileBody: { mediaTypes: RENDERED_LEAK_MEDIA_TYPES, maxBytes: LEAK_TRACE_MAX_BYTES },
        response: [200, incidentViewSchema.extend({ trace: leakTraceSchema })],
        params: [incidentIdParam],
      },
    },
    '/api/incidents/{id}/report': {
      get: {
        summary:
          'The investigation report from the records: every access to the affected studies and patients in the window ' +
          '(format=json, html or pdf; lang=en or zh)',
        response: [200, incidentReportSchema],
        params: [incidentIdParam, ...['format', 'lang'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } }))],
      },
    },
    '/api/incidents/{id}/evidence': {
      get: {
        summary: 'The whole incident as a signed evidence bundle (auditors): verify it like a case’s',
        response: [200, z.object({ bundle: z.unknown(), signature: z.string() })],
        params: [incidentIdParam],
      },
    },
    '/api/sign-out': {
      post: { summary: 'End this session: the bearer token is refused by every API process from now on', response: [204, null] },
    },
    '/api/cases/{id}/evidence': {
      get: {
        summary: 'A signed evidence bundle for a case: history, records, accesses, chain segment and checkpoint (auditors only)',
        response: [200, null],
        params: [idParam],
      },
    },
    '/.well-known/audit-keys.json': {
      get: { summary: 'Every public key the API has ever signed with: verifies checkpoints and evidence bundles', response: [200, null], public: true },
    },
    '/.well-known/jwks.json': { get: { summary: 'Public keys that verify every token this API signs', response: [200, null], public: true } },
    '/healthz': { get: { summary: 'Database and Temporal reachable', response: [200, healthSchema], public: true } },
    '/openapi.json': { get: { summary: 'This document', response: [200, null], public: true } },
  };
}

export function buildOpenApiDocument(maxDurationMinutes = 480, breakGlassMaxMinutes = 60): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const [path, methods] of Object.entries(routeTable(maxDurationMinutes, breakGlassMaxMinutes))) {
    paths[path] = {};
    for (const [method, op] of Object.entries(methods)) {
      const [status, schema] = op.response;
      paths[path][method] = {
        summary: op.summary,
        ...(op.public ? {} : secured),
        ...(op.params ? { parameters: op.params } : {}),
        ...(op.body ? { requestBody: { required: true, content: json(op.body) } } : {}),
        ...(op.fileBody ? { requestBody: { required: true, content: fileContent(op.fileBody) } } : {}),
        responses: {
          [status]: { description: 'Success', ...(schema ? { content: json(schema) } : {}) },
          ...(op.rateLimited ? { '429': rateLimited } : {}),
          '4XX': problem,
          '5XX': problem,
        },
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Imaging access review API', version: '0.1.0' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths,
  };
}
