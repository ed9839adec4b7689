declare const __OMNI_DEV__: boolean | undefined;

/**
 * True in source and in the `development` build; the production builds replace
 * `__OMNI_DEV__` with `false`, so every `if (DEV_MODE)` branch is removed by the minifier.
 */
export const DEV_MODE: boolean = typeof __OMNI_DEV__ === 'undefined' ? true : __OMNI_DEV__;
