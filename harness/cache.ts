// The cache lock and build marker moved to lib/ (the detections converter builds its Python environment at run
// time too); harness code keeps importing them from here.
export * from "../lib/cache.ts";
