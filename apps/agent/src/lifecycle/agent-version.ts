import packageJson from '../../package.json' with { type: 'json' };

/** This agent's version, from its package.json (bundled at build time). */
export const AGENT_VERSION: string = packageJson.version;
