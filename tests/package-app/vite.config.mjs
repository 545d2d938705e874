// The package's entry uses top-level await to initialise the wasm on
// import: the build target must allow it.
export default {
  base: './',
  logLevel: 'warn',
  build: { target: 'esnext' },
  // For `vite` (dev): serve the package as is, so the .wasm next to it is found.
  optimizeDeps: { exclude: ['redis-wasm'] },
};
