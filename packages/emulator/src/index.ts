export { createEmulator } from './create-emulator.js';
export type { Emulator, EmulatorOptions, EmulatorStats } from './create-emulator.js';
export { faultPresets, validateFaultRules } from './fault-injector.js';
export type { FaultPreset, FaultResponse, FaultRule } from './fault-injector.js';
export { operationNames } from './parse-request.js';
export type { OperationName } from './parse-request.js';
export { encodeString, signRequest } from './sign-request.js';
export type { SignatureInput } from './sign-request.js';
export type { PresenceState } from './presence-store.js';
