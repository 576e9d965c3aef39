// @nestjs/throttler is CommonJS and require()s @nestjs/common, which is ESM only. Under
// jest's ESM support that require() fails ("in a cycle") unless @nestjs/common was
// evaluated before: load it first. (Plain Node has no such problem.)
await import('@nestjs/common');
await import('@nestjs/core');
