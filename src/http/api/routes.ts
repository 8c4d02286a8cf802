import type { Route } from '../router.js';
import { bindingRoutes } from './bindings.js';
import { connectionRoutes } from './connections.js';
import { exchangeRoutes } from './exchanges.js';
import { healthRoutes } from './health.js';
import { overviewRoutes } from './overview.js';
import { queueRoutes } from './queues.js';

/** Every route of the management API. */
export const apiRoutes: Route[] = [...connectionRoutes, ...overviewRoutes, ...exchangeRoutes, ...queueRoutes, ...bindingRoutes, ...healthRoutes];
