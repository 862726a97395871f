/**
 * The one Node 22 feature the ASL interpreter needs: aws-local-stepfunctions 3
 * calls `Promise.withResolvers`, which Node 20 (the local toolchain) lacks.
 * state-machine.ts installs it before the interpreter runs; a test harness
 * that runs the interpreter on its own calls it too.
 */

/** Installs `Promise.withResolvers` where the runtime lacks it; a no-op on Node 22+. */
export function polyfillPromiseWithResolvers(): void {
  const promise = Promise as unknown as { withResolvers?: () => unknown }
  promise.withResolvers ??= () => {
    let resolve: unknown
    let reject: unknown
    const created = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    return { promise: created, resolve, reject }
  }
}
