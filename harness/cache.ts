// The cache moved to lib/ (product code uses it too); harness code keeps importing it from here.
export * from "../lib/cache.ts";
