/** The node-side vzdump hook: the script, its hook.conf renderer and its install text. */
export { HookConfigError, type HookConfigInput, renderHookConfig } from './config.js';
export { hookInstallHelp } from './help.js';
export { hookScript, hookScriptPath } from './script.js';
