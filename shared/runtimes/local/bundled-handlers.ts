/**
 * Handler modules compiled into a bundle, by the file serverless.yml names (`build.ts` fills it
 * before the bundle's entry runs). Empty when running from source: the bus then imports handler
 * files from the repository as before. Each loader imports its module lazily, as the bus does from
 * source, so a handler module is evaluated on its first event, never at start-up.
 */
export type HandlerModuleLoader = () => Promise<Record<string, unknown>>;

export const bundledHandlers = new Map<string, HandlerModuleLoader>();
