/** Vite's module types: CSS imports. */
declare module '*.css';
/** hls.js's light build (playback without subtitles, alternate audio or DRM) has the full build's types. */
declare module 'hls.js/light' {
  export { default } from 'hls.js';
  export * from 'hls.js';
}
