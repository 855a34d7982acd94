// esbuild bundles imported stylesheets into dist/webview/main.css.
declare module '*.css';
