/**
 * The major version of the driver API this core provides. A driver definition states the version
 * it was written for; the registry refuses any other, since a major bump changes the contract.
 */
export const DRIVER_API_VERSION = 1;
