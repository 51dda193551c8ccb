/**
 * The one registry of stable error codes. Every error the API can return is listed here with its
 * HTTP status, a title and how to fix it; `docs/errors.md` is checked against this table by a test,
 * so a code cannot be added without being documented. Codes are never reused or renamed.
 */
export interface ErrorSpec {
  status: number;
  title: string;
  /** What the caller can do about it (shown in docs and as `hint` in responses). */
  hint: string;
}

export const errorRegistry = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid', hint: 'Fix the fields listed in `errors` (unknown fields are rejected too) and send it again.' },
  MALFORMED_REQUEST: { status: 400, title: 'The request could not be understood', hint: 'Check the request line, the headers and their syntax (a client library sends them right).' },
  MALFORMED_JSON: { status: 400, title: 'The body is not valid JSON', hint: 'Send a JSON object with `Content-Type: application/json`.' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required', hint: 'Send `Authorization: Bearer <token>` with a valid token.' },
  FORBIDDEN: { status: 403, title: 'Not allowed for this role', hint: 'Use an admin token; operators cannot manage platforms, presets or tokens.' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such endpoint', hint: 'Check the path and method against /api/openapi.json.' },
  DESTINATION_NOT_FOUND: { status: 404, title: 'Destination not found', hint: 'List destinations with GET /api/destinations to find its id.' },
  PRESET_NOT_FOUND: { status: 404, title: 'Preset not found', hint: 'List presets with GET /api/presets.' },
  PLATFORM_NOT_FOUND: { status: 404, title: 'Platform not found', hint: 'List platforms with GET /api/platforms.' },
  TOKEN_NOT_FOUND: { status: 404, title: 'Token not found', hint: 'List tokens with GET /api/admin/tokens.' },
  NOTIFICATION_CHANNEL_NOT_FOUND: { status: 404, title: 'Notification channel not found', hint: 'List channels with GET /api/admin/notifications/channels (or `fanout notify channels`).' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', hint: 'Check the method against /api/openapi.json.' },
  ILLEGAL_TRANSITION: { status: 409, title: 'Not possible in the current status', hint: 'Wait for the destination to reach a status that allows it (see `currentStatus`).' },
  VERSION_CONFLICT: { status: 409, title: 'Changed by someone else', hint: 'Fetch the resource again and retry with its current `version`.' },
  ALREADY_EXISTS: { status: 409, title: 'Already exists', hint: 'Choose another id, or update the existing resource.' },
  PRESET_IN_USE: { status: 409, title: 'Preset in use', hint: 'Move the destinations listed in `usedBy` to another preset first.' },
  PLATFORM_IN_USE: { status: 409, title: 'Platform in use', hint: 'Delete or move the destinations and presets listed in `usedBy` first.' },
  BUILT_IN_READ_ONLY: { status: 409, title: 'Built-in resources cannot be deleted', hint: 'Built-in platforms and presets can be edited but not deleted.' },
  NOTIFICATION_CHANNEL_INVALID: {
    status: 422,
    title: 'The notification channel cannot be used as given',
    hint: 'Slack and webhook channels need an http(s) URL without credentials; SNS channels exist where the stack has a topic (AWS); log channels take no URL.',
  },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency-Key reused with a different request', hint: 'Use a new Idempotency-Key for a different request.' },
  UNKNOWN_PLATFORM: { status: 422, title: 'Unknown platform', hint: 'Use a platform id from GET /api/platforms (youtube, twitch, linkedin, facebook, custom, ...).' },
  UNKNOWN_PRESET: { status: 422, title: 'Unknown preset', hint: 'Use a preset id from GET /api/presets?platform=<platform>.' },
  RTMP_URL_REQUIRED: { status: 422, title: 'This platform needs an ingest URL', hint: "Send `rtmpUrl` (copy it from the platform's live dashboard); this platform has no default." },
  PRESET_EXCEEDS_PLATFORM_LIMITS: { status: 422, title: "The preset exceeds the platform's limits", hint: "Choose a preset within the limits listed in `violations`, or raise the platform's limits." },
  PRESET_PLATFORM_MISMATCH: { status: 422, title: 'The preset belongs to another platform', hint: 'Use a generic preset or one made for this platform.' },
  INGEST_URL_INVALID: {
    status: 422,
    title: 'The ingest URL cannot be used',
    hint: 'Send rtmp://host[:port]/app or rtmps://host[:port]/app exactly as the platform gives it: no query, fragment, control characters or spaces, a port from 1 to 65535 (see `reason` and `errors`).',
  },
  INGEST_URL_CREDENTIALS: { status: 422, title: 'Credentials in the ingest URL are not supported', hint: "Remove user:password@ from the URL; put the platform's stream key in `streamKey`." },
  STREAM_KEY_INVALID: { status: 422, title: 'The stream key cannot be used', hint: "Paste the whole key again from the platform's live dashboard, without control characters (a NUL would end it early)." },
  EGRESS_REFUSED: {
    status: 422,
    title: 'Fanout may not connect to this host',
    hint: 'Use a public ingest host. Loopback and private hosts need FANOUT_EGRESS_ALLOW_PRIVATE=on or the host in FANOUT_EGRESS_ALLOW_HOSTS (`setting`); link-local and cloud metadata addresses are never allowed.',
  },
  INGEST_HOST_NOT_FOUND: { status: 422, title: 'The ingest host name does not resolve', hint: 'Check the host name for typos (DNS has no address for it).' },
  DNS_UNAVAILABLE: { status: 503, title: 'DNS did not answer', hint: "Retry shortly; check this machine's DNS if it persists." },
  PRICE_LIST_UNAVAILABLE: {
    status: 503,
    title: 'The AWS Price List could not be read',
    hint: 'On AWS: retry later, and check that the function role allows pricing:GetProducts (`reason` names the error). The local runtime has no Price List access: set rates as overrides (PUT /api/admin/cost/rates).',
  },
  PRESET_NOT_ENCODABLE: {
    status: 422,
    title: 'The preset cannot be encoded as given',
    hint: 'Fix the fields listed in `errors` (H.264 level for the size, rate and bitrate, or leave `level` out to have it chosen; AAC bitrate for the channels and sample rate; frame rate at most 60).',
  },
  STORE_SCHEMA_TOO_NEW: { status: 503, title: 'Stored data was written by a newer Fanout', hint: 'Run the Fanout version that wrote it (or newer); this one cannot read it.' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large', hint: 'Bodies are limited to 64 KiB.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', hint: 'Send `Content-Type: application/json`.' },
  AUTH_RATE_LIMITED: { status: 429, title: 'Too many failed authentications from this address', hint: 'Check the token you send; wait for the number of seconds in `Retry-After`, then retry with a valid one.' },
  TOO_MANY_STREAMS: { status: 429, title: 'Too many open event streams for this token', hint: 'Close an event stream this token holds open (one per dashboard is enough), or use another token.' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request took too long to arrive', hint: 'Send the whole request promptly (headers within a minute).' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large', hint: 'Send smaller headers (the server takes up to 16 KiB in all).' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', hint: 'Wait for the number of seconds in `Retry-After`, then retry.' },
  INTERNAL: { status: 500, title: 'Internal error', hint: 'Retry; if it persists, report the `instance` id from this response.' },
  STORE_UNAVAILABLE: { status: 503, title: 'The database is unavailable', hint: 'Retry shortly; check the database service if it persists.' },
  SSE_UNAVAILABLE: { status: 501, title: 'Live events are not available here', hint: 'This runtime cannot stream; poll GET /api/destinations instead (the local runtime streams).' },
  NOT_AN_ORPHAN: { status: 409, title: 'Not an orphan', hint: 'Only resources GET /api/channels/validate lists as orphans can be cleaned up; check `notOrphans` and validate again.' },
  INPUT_NOT_CONNECTED: { status: 409, title: 'That input delivers no media', hint: 'Connect an encoder to that input first (GET /api/mediaconnect/inputs/health shows both), then switch.' },
  INPUT_REDUNDANCY_UNSUPPORTED: {
    status: 501,
    title: 'This media engine has no backup input configured or implemented',
    hint: 'The media engine of this runtime has no backup input configured or implemented, so there is nothing to switch to or test: configure the backup input where the engine supports one (on AWS, the backup source of the stack); GET /api/mediaconnect/inputs/health still reports the main input.',
  },
  ENGINE_UNAVAILABLE: { status: 503, title: 'The media engine is unavailable', hint: "Retry shortly; check the media engine's health at /api/health." },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorRegistry;
