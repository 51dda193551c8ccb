/** Entry of the dashboards: reads /config.json, installs the router, renders the app. */
import { render } from 'preact';
import { App } from './app.tsx';
import { installRouter } from './router.ts';
import { loadConfig } from './state/session.ts';
import './styles.css';

await loadConfig();
installRouter();
render(<App />, document.getElementById('app')!);
