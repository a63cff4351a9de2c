import { definePackage } from '../../tsup.shared.js';

export default definePackage(['src/index.ts']);
