// The Pulumi program: `pulumi up` on any stack of stacks/. Config is validated as a whole before any resource
// is declared; an invalid stack file fails here with every problem listed by its helk: key path.
import { HelkStack, readStackConfig } from "./components/stack.ts";

const config = readStackConfig();
const helk = new HelkStack(config.name, { config });

/** Where each part of the stack answers (password and token are secrets). */
export const endpoints = helk.endpoints;
export const target = config.target;
