/// <reference types="vite/client" />

/** The package version, written in at build time. */
declare const __APP_VERSION__: string;
