#!/usr/bin/env node
// The `trainyard` command: runs src/cli/trainyard.ts through tsx (the project runs TypeScript directly).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/trainyard.ts');
