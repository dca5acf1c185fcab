/**
 * `@switchyard/cri/testing` — a real containerd for tests: its own directories, socket and
 * network namespace, locally built images, pods and containers made through CRI, all removed on
 * `stop()`.
 *
 * @module
 */
export {
  APP_IMAGE,
  type ContainerdLab,
  type ContainerdOptions,
  containerdUnavailable,
  PAUSE_IMAGE,
  type PodOptions,
  startContainerd,
} from './containerd-lab.js';
export { buildOciImage } from './oci-image.js';
