// The shared flows against the real server (in-process; in-memory PGlite, or DATABASE_URL).
import { describe } from 'node:test';
import { contractFlows } from './flows.js';
import { serverTarget } from './targets.js';

describe('contract: @omnikit/server', () => contractFlows(serverTarget));
