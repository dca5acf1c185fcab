/** How a socket is handed over, and how to stop the relay from outside. */
export interface HandOffOptions {
  /**
   * Leave Node's socket object open (not reading) as a stand-in for whoever tracks it; destroy it
   * after the relay ends. Default: destroyed at hand-off.
   */
  keepSocket?: boolean;
  /** Aborting resets the connection (RST on both sides), whatever state it is in. */
  signal?: AbortSignal;
}
