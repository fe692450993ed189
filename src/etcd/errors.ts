import { LockdError } from '../client/errors.js';

/**
 * etcd's refusals (a wrong user or password, no permission on the prefix) as
 * LockdError EAUTH, as lockd-server's; any other error as it is. etcd3 is
 * loaded already whenever there is an etcd error to look at.
 */
export async function etcdError(err: unknown): Promise<unknown> {
  const etcd3 = await import('etcd3');
  const refusals = [
    etcd3.EtcdAuthenticationFailedError,
    etcd3.EtcdPermissionDeniedError,
    etcd3.EtcdUserNotFoundError,
    etcd3.EtcdInvalidAuthTokenError,
    etcd3.EtcdRoleNotGrantedError,
  ];
  const message = String((err as Error)?.message);
  // etcd3 has no class for a cluster with auth on asked without a user.
  if (!refusals.some((refusal) => err instanceof refusal) && !message.includes('etcdserver: user name is empty')) return err;
  const why = message.replace(/^.*?etcdserver: /, '').split('\n')[0];
  return new LockdError(`the etcd cluster refused us: ${why}`, 'EAUTH', { cause: err });
}
