// The pure Raft core: the only module the host imports from src/raft/.
export * from './types.js';
export { Raft, type RaftStats } from './raft.js';
export { RaftLog, entryBytes } from './log.js';
export { Progress, Inflights, type ProgressState } from './progress.js';
export { majority, quorumValue, voteResult, type VoteResult } from './quorum.js';
export { messageProblem } from './validate.js';
export {
  applyConfChange, decodeConfEntry, encodeConfEntry, membershipProblem, normalizeMembership, sameMembership, type ConfChange,
} from './membership.js';
export { RaftInvariantError } from './assert.js';
