/** Devices: 'cpu', 'cuda' (the current GPU) or 'cuda:N'. */
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

const DEVICE_RE = /^(cpu|cuda(:\d+)?)$/;

/** Validates a device string, throwing a TypeError that names the argument. */
export function checkDevice(device: string, arg = 'device'): Device {
  if (typeof device !== 'string' || !DEVICE_RE.test(device)) {
    throw new TypeError(`${arg}: invalid device '${String(device)}' (expected 'cpu', 'cuda' or 'cuda:N')`);
  }
  return device as Device;
}
