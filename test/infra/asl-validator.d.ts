declare module 'asl-validator' {
  interface AslValidationResult {
    isValid: boolean
    errors: unknown[]
    errorsText(separator?: string): string
  }
  export default function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): AslValidationResult
}
