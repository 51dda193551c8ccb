/** The CLI's version: the package's. */
import pkg from '../../../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
