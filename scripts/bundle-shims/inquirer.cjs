'use strict';
// The CLI bundle's stand-in for inquirer (see scripts/bundle.config.mjs). nest-commander loads inquirer as it starts,
// to hand to question sets (`@QuestionSet`), and this CLI defines none: every command takes flags, so that it runs
// unattended in scripts, cron and CI. A question asked anyway fails with this message instead of a prompt.
function prompt() {
  return Promise.reject(
    new Error('This CLI asks no questions: inquirer is left out of its bundle (scripts/bundle.config.mjs)'),
  );
}
module.exports = { prompt, createPromptModule: () => prompt, registerPrompt() {} };
