/** The live monitoring page served at `/` by the runner's metrics port and by the model server. */
import type { Registry } from 'prom-client';
import { DashboardCollector, type DashboardCollectorOptions } from './collector.ts';
import { dashboardRoutes, type DashboardRouteOptions, type HttpRoute } from './routes.ts';

export { DashboardCollector, type DashboardCollectorOptions, type DashboardData, type DeadLetterNote } from './collector.ts';
export { dashboardRoutes, type DashboardRouteOptions, type HttpRoute } from './routes.ts';
export type { DashboardFrame, ModelFrame, ShadowFrame, SplitFrame } from './frame.ts';

/** A collector sampling `registries` and the routes serving it. */
export interface Dashboard {
  collector: DashboardCollector;
  route: HttpRoute;
  close(): void;
}

/** Starts sampling `registries` for the dashboard page; mount `route` in an HTTP server and `close()` with it. */
export function startDashboard(options: Omit<DashboardCollectorOptions, 'registries'> & DashboardRouteOptions & { registries: readonly Registry[] }): Dashboard {
  const collector = new DashboardCollector(options);
  return { collector, route: dashboardRoutes(collector, options), close: () => collector.close() };
}
