/** Entry point: mounts the dashboard into `#app`. */
import { render } from 'preact';
import { Shell } from './shell.js';
import './styles.css';

render(<Shell />, document.getElementById('app')!);
