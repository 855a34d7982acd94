/** A problem with a training run the user can act on (bad input, a run that is not there, a failed job): shown as a message, not a stack. */
export class TrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainError';
  }
}
