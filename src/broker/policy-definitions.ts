import type { Policy, PolicyInput } from './access/policies.js';
import type { Broker } from './broker.js';

/** A policy in RabbitMQ's definitions format (the HTTP API's form; `rabbitmqctl export_definitions` writes the same keys). */
export interface PolicyDocument {
  vhost: string;
  name: string;
  pattern: string;
  'apply-to': string;
  definition: Record<string, unknown>;
  priority: number;
}

/**
 * A vhost runtime parameter. RabbitMQ keeps operator policies as parameters
 * of component `operator_policy`, whose value is the policy's fields
 * (rabbitmqctl writes the definition as [[key, value], …]; both forms import).
 */
export interface ParameterDocument {
  vhost: string;
  component: string;
  name: string;
  value: unknown;
}

const OPERATOR_POLICY = 'operator_policy';

/** The `policies` and `parameters` sections of an export, highest priority first within a vhost. */
export function exportPolicies(broker: Broker): { policies: PolicyDocument[]; parameters: ParameterDocument[] } {
  const policies: PolicyDocument[] = [];
  const parameters: ParameterDocument[] = [];
  for (const vhost of broker.vhosts.values()) {
    for (const policy of vhost.policies.list()) policies.push(policyDocument(policy));
    for (const policy of vhost.operatorPolicies.list()) {
      const { pattern, definition, priority } = policyDocument(policy);
      parameters.push({
        vhost: vhost.name,
        component: OPERATOR_POLICY,
        name: policy.name,
        value: { pattern, definition, priority, 'apply-to': policy.applyTo },
      });
    }
  }
  return { policies, parameters };
}

/** A policy as definitions (and the management API) show it. */
export function policyDocument(policy: Policy): PolicyDocument {
  return {
    vhost: policy.vhost,
    name: policy.name,
    pattern: policy.pattern,
    'apply-to': policy.applyTo,
    definition: { ...policy.definition },
    priority: policy.priority,
  };
}

/** Sets the policies and operator policies a definitions document has; returns what it could not (with the reason). */
export function importPolicies(
  broker: Broker,
  document: { policies?: PolicyDocument[]; parameters?: ParameterDocument[] },
): string[] {
  const problems: string[] = [];
  for (const policy of document.policies ?? []) {
    const vhost = broker.vhost(policy.vhost);
    try {
      if (vhost === undefined) throw new Error(`no vhost '${policy.vhost}'`);
      vhost.setPolicy(policy.name, policyInput(policy as unknown as Record<string, unknown>));
    } catch (error) {
      problems.push(`policy '${policy.name}' in vhost '${policy.vhost}': ${(error as Error).message}`);
    }
  }
  for (const parameter of document.parameters ?? []) {
    const vhost = broker.vhost(parameter.vhost);
    try {
      if (parameter.component !== OPERATOR_POLICY) throw new Error(`component '${parameter.component}' is not supported`);
      if (vhost === undefined) throw new Error(`no vhost '${parameter.vhost}'`);
      const value = typeof parameter.value === 'object' && parameter.value !== null ? parameter.value : {};
      vhost.setOperatorPolicy(parameter.name, policyInput(value as Record<string, unknown>));
    } catch (error) {
      problems.push(`parameter '${parameter.name}' (${parameter.component}) in vhost '${parameter.vhost}': ${(error as Error).message}`);
    }
  }
  return problems;
}

function policyInput(fields: Record<string, unknown>): PolicyInput {
  return { pattern: fields.pattern, applyTo: fields['apply-to'], priority: fields.priority, definition: fields.definition };
}
