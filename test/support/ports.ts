export { freePort } from '../../src/temporal/ports.js';
