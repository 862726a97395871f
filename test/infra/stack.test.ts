import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { LOG_RETENTION_DAYS } from '../../infra/src/config.js'
import { parquetTableColumns } from '../../infra/src/glue-columns.js'
import { incomingKeyEventPattern } from '../../lambdas/ingest/src/incoming-keys.js'
import { resolvedTemplate } from './deployed-calls.js'
import { resource, template } from './synth.js'

const t = template()

describe('storage', () => {
  it('has a customer-managed KMS key with rotation', () => {
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true })
  })

  it('encrypts raw and processed with SSE-KMS and bucket keys, versions them, blocks public access and logs access', () => {
    for (const prefix of ['StorageRaw', 'StorageProcessed']) {
      const { props } = resource(t, 'AWS::S3::Bucket', prefix)
      expect(props).toMatchObject({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: expect.anything() },
            },
          ],
        },
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^StorageAccessLogs/) } },
      })
    }
  })

  it('keeps access logs in a separate SSE-S3 bucket', () => {
    const { props } = resource(t, 'AWS::S3::Bucket', 'StorageAccessLogs')
    expect(props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    })
  })

  it('denies every non-TLS request in each bucket policy', () => {
    const policies = t.findResources('AWS::S3::BucketPolicy')
    expect(Object.keys(policies)).toHaveLength(3)
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      )
    }
  })

  it('sends raw-bucket events to EventBridge', () => {
    const { props } = resource(t, 'AWS::S3::Bucket', 'StorageRaw')
    expect(props.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    })
  })

  it('ages incoming files, expires rejects and aborts stale multipart uploads', () => {
    const raw = resource(t, 'AWS::S3::Bucket', 'StorageRaw').props.LifecycleConfiguration as {
      Rules: unknown[]
    }
    expect(raw.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
        expect.objectContaining({
          Prefix: 'incoming/',
          Transitions: [
            { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
            { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
          ],
        }),
      ]),
    )
    const processed = resource(t, 'AWS::S3::Bucket', 'StorageProcessed').props.LifecycleConfiguration as {
      Rules: unknown[]
    }
    expect(processed.Rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
        expect.objectContaining({ Prefix: 'rejected/', ExpirationInDays: 90 }),
      ]),
    )
  })
})

describe('the trigger', () => {
  it('matches Object Created events for .csv under incoming/ in the raw bucket', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: Match.stringLikeRegexp('^StorageRaw') }] },
          object: { key: incomingKeyEventPattern('incoming/') },
        },
      },
    })
  })

  it('targets the ingest state machine with retries and an encrypted dead-letter queue', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { Ref: Match.stringLikeRegexp('^OrchestrationIngestStateMachine') },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UndeliveredEvents'), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 8 },
        }),
      ],
    })
    t.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true })
  })
})

describe('the Lambda', () => {
  it('runs the bundled handler on Node 24, arm64, with the measured memory and timeout, traced', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1769,
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.stringLikeRegexp('^IngestFunctionLogs') } },
      Environment: {
        Variables: Match.objectLike({
          PROCESSED_BUCKET: { Ref: Match.stringLikeRegexp('^StorageProcessed') },
          INCOMING_PREFIX: 'incoming/',
          POWERTOOLS_SERVICE_NAME: 'listings-ingest',
          NODE_OPTIONS: '--enable-source-maps --max-old-space-size=1415',
          OUTPUT_KMS_KEY_ARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageDataKey'), 'Arn'] },
        }),
      },
    })
  })

  it('passes thresholds and sizing from context', () => {
    const custom = template({ maxRejectedRatio: 0.2, lambdaMemoryMb: 3008, lambdaTimeoutMinutes: 10 })
    custom.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 3008,
      Timeout: 600,
      Environment: { Variables: Match.objectLike({ MAX_REJECTED_RATIO: '0.2' }) },
    })
  })

  it('has a role with explicit actions scoped to prefixes and the key, and no managed policies', () => {
    const { props } = resource(t, 'AWS::IAM::Policy', 'IngestFunctionRoleDefaultPolicy')
    const statements = (
      props.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Sid?: string }[] }
    ).Statement
    for (const statement of statements) {
      for (const action of [statement.Action].flat())
        expect(action, JSON.stringify(statement)).not.toMatch(/\*/)
    }
    const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]))
    // Exactly what the code calls (lambdas/ingest/src/aws-calls.ts): reads of the source and the
    // lookup; manifests read and written; outputs written, aborted and replaced; nothing more.
    const grants = {
      S3ForSource: [['s3:GetObject', 's3:GetObjectVersion'], '/incoming/*'],
      S3ForLookup: [['s3:GetObject', 's3:GetObjectVersion'], '/reference/category_lookup.csv'],
      S3ForManifest: [['s3:GetObject', 's3:PutObject'], '/_manifests/*'],
      S3ForParquet: [['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'], '/listings/*'],
      S3ForRejected: [['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:PutObject'], '/rejected/*'],
      S3ForReport: [['s3:DeleteObject', 's3:PutObject'], '/reports/*'],
    } as const
    for (const [sid, [actions, keys]] of Object.entries(grants)) {
      expect(bySid[sid]?.Action, sid).toEqual(actions)
      expect(JSON.stringify(bySid[sid]?.Resource), sid).toContain(keys)
    }
    expect(bySid.UseDataKeyThroughS3).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
    })
    const { props: role } = resource(t, 'AWS::IAM::Role', 'IngestFunctionRole')
    expect(role.ManagedPolicyArns).toBeUndefined()
  })
})

describe('alerts and logs', () => {
  it('encrypts the alert topic with the data key and requires TLS', () => {
    t.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StorageDataKey'), 'Arn'] },
    })
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    })
  })

  it('subscribes the alarm e-mail when one is given', () => {
    template({ alarmEmail: 'data-team@example.com' }).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'data-team@example.com',
    })
    expect(Object.keys(t.findResources('AWS::SNS::Subscription'))).toHaveLength(0)
  })

  it('encrypts and retains every log group: the Lambda, the Fargate task, and the four state machines', () => {
    const found = t.findResources('AWS::Logs::LogGroup')
    const owners = [
      'IngestFunction',
      'LargeFiles',
      'OrchestrationIngest',
      'OrchestrationBackfill',
      'CurrentTableMaintenance',
      'CurrentTableRebuild',
    ]
    expect(
      Object.keys(found)
        .map((id) => owners.find((owner) => id.startsWith(owner)))
        .sort(),
    ).toEqual([...owners].sort())
    const groups = Object.values(found)
    for (const group of groups) {
      expect(group.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^StorageDataKey/), 'Arn'],
      })
      expect(group.Properties.RetentionInDays).toBe(365)
      expect(group.DeletionPolicy).toBe('Retain')
    }
  })

  it('lets `cdk destroy` then `cdk deploy` recreate every retained resource: no fixed name survives a teardown', () => {
    // A retained resource outlives the stack; the next stack's must not collide with it. Resolve the
    // template for two stack creations (CloudFormation draws a new stack UUID each time).
    const json = t.toJSON()
    const first = resolvedTemplate(json, '11111111-aaaa-4bbb-8ccc-dddddddddddd')
    const second = resolvedTemplate(json, '22222222-eeee-4fff-8aaa-bbbbbbbbbbbb')
    const retained = first.retained()
    expect(retained.map((r) => r.type)).toEqual(
      expect.arrayContaining(['AWS::Logs::LogGroup', 'AWS::S3::Bucket']),
    )
    for (const { logicalId } of retained.filter((r) => first.hasGivenName(r.logicalId))) {
      expect(first.physicalName(logicalId), logicalId).not.toBe(second.physicalName(logicalId))
    }
  })

  it("names the state machines' log groups under /aws/vendedlogs/states/, as Step Functions recommends", () => {
    const resolved = resolvedTemplate(t.toJSON())
    const named = resolved.ofType('AWS::Logs::LogGroup').filter((g) => resolved.hasGivenName(g.logicalId))
    expect(named.map((g) => g.ref).sort()).toEqual([
      '/aws/vendedlogs/states/listings-ingest-backfill-5f1e2d3c',
      '/aws/vendedlogs/states/listings-ingest-ingest-5f1e2d3c',
    ])
  })

  it('keeps logs for any period CloudWatch Logs accepts, from context', () => {
    const groups = Object.values(template({ logRetentionDays: 731 }).findResources('AWS::Logs::LogGroup'))
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(731)
  })
})

describe('analytics', () => {
  it('defines a Glue table over the Parquet with date partition projection', () => {
    t.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({
        Name: 'listings',
        PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        Parameters: Match.objectLike({
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'storage.location.template': Match.anyValue(),
        }),
        StorageDescriptor: Match.objectLike({
          // The Parquet schema's columns, each with its Glue type (glue-columns.test.ts) and its documentation.
          Columns: parquetTableColumns().map(({ name, type, comment }) => ({
            Name: name,
            Type: type,
            Comment: comment,
          })),
          SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
        }),
      }),
    })
  })

  it('gives Athena a workgroup with KMS-encrypted results', () => {
    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
          OutputLocation: Match.anyValue(),
        },
      }),
    })
  })
})

describe('the stack as a whole', () => {
  it('grants no wildcard actions in any IAM policy', () => {
    for (const [id, policy] of Object.entries(t.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]) {
        for (const action of [statement.Action].flat()) expect(action, `${id}: ${action}`).not.toContain('*')
      }
    }
  })

  it('is environment-agnostic', () => {
    const json = JSON.stringify(t.toJSON())
    expect(json).not.toMatch(/\b\d{12}\b/)
    expect(json).toContain('AWS::AccountId')
  })

  it.each([
    ['retain (the default)', {}, 'Retain', false],
    ['destroy', { removalPolicy: 'destroy' }, 'Delete', true],
  ] as const)(
    'under %s, buckets, the key and every log group are %s; the writer lock is always deleted',
    (_, context, policy, recursive) => {
      const built = template(context)
      const deletionPolicies = (type: string) => [
        ...new Set(Object.values(built.findResources(type)).map((r) => String(r.DeletionPolicy))),
      ]
      for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']) {
        expect(deletionPolicies(type), type).toEqual([policy])
      }
      expect(deletionPolicies('AWS::DynamoDB::Table')).toEqual(['Delete'])
      const workGroups = Object.values(built.findResources('AWS::Athena::WorkGroup'))
      expect(workGroups.map((w) => w.Properties.RecursiveDeleteOption)).toEqual([recursive])
      // Buckets are never emptied by a custom resource: a destroy of a non-empty bucket fails instead.
      expect(Object.keys(built.findResources('Custom::S3AutoDeleteObjects'))).toEqual([])
    },
  )

  it('refuses a log retention CloudWatch Logs would reject, listing the accepted values', () => {
    expect(() => template({ logRetentionDays: 100 })).toThrow(
      `context logRetentionDays must be one of the periods CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')}), got 100`,
    )
    expect(LOG_RETENTION_DAYS).toEqual([
      1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ])
  })

  it('refuses malformed context with a message naming the key', () => {
    expect(() => template({ lambdaMemoryMb: 'lots' })).toThrow(
      'context lambdaMemoryMb must be a whole number from 512 to 10240, got "lots"',
    )
  })
})
