// What one test leaves for the next (the tests of a file run in order, in one process).
export const shared = {};
