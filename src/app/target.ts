/** A service in one environment: the unit that one rollout at a time may change. */
export interface Target {
  service: string;
  environment: string;
}
