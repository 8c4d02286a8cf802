import type { Route } from '../router.js';
import { bindingRoutes } from './bindings.js';
import { connectionRoutes } from './connections.js';
import { definitionsRoutes } from './definitions.js';
import { exchangeRoutes } from './exchanges.js';
import { healthRoutes } from './health.js';
import { overviewRoutes } from './overview.js';
import { parameterRoutes } from './parameters.js';
import { policyRoutes } from './policies.js';
import { queueRoutes } from './queues.js';
import { userRoutes } from './users.js';

/** Every route of the management API. */
export const apiRoutes: Route[] = [
  ...connectionRoutes,
  ...overviewRoutes,
  ...exchangeRoutes,
  ...queueRoutes,
  ...bindingRoutes,
  ...healthRoutes,
  ...userRoutes,
  ...policyRoutes,
  ...definitionsRoutes,
  ...parameterRoutes,
];
