// The Redis-protocol front end (docs/resp.md): `RespServer.start(cluster, options)`.
export { RespServer } from './server.js';
export { resolveRespOptions } from './options.js';
export type { RespServerOptions, ResolvedRespOptions } from './options.js';
export { RequestParser, DEFAULT_PARSER_LIMITS, splitInline } from './parser.js';
export type { ParserLimits, ParseOutput } from './parser.js';
export { globMatch } from './glob.js';
export { COMMANDS } from './dispatch.js';
