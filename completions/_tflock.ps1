
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'tflock' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'tflock'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'tflock' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run any command under the lock: tflock run [--] CMD [ARGS...]')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show who holds the lock, since when, and terraform''s own lock item')
            [CompletionResult]::new('force-unlock', 'force-unlock', [CompletionResultType]::ParameterValue, 'Remove a stuck lock: --verify proves its holder dead first; LOCK_ID is the unguarded path')
            [CompletionResult]::new('setup', 'setup', [CompletionResultType]::ParameterValue, 'Create the lock table (and check the state bucket); safe to run again')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the backend, table, credentials, clock and terraform: one line per check')
            [CompletionResult]::new('history', 'history', [CompletionResultType]::ParameterValue, 'Every acquisition, wait, takeover and force-unlock of the lock')
            [CompletionResult]::new('stats', 'stats', [CompletionResultType]::ParameterValue, 'Contention per lock: runs, waits, hold times, lease losses, force-unlocks')
            [CompletionResult]::new('drill', 'drill', [CompletionResultType]::ParameterValue, 'A fire drill on a scratch lock: a holder dies, and is recovered with force-unlock --verify')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'The effective settings here and where each came from (flag, variable, .tflock.toml, backend, default)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script (tflock''s commands and terraform''s)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff): tflock man > tflock.1')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'terraform init (no lock: passed to terraform)')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'terraform validate (no lock)')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'terraform plan, under the lock')
            [CompletionResult]::new('apply', 'apply', [CompletionResultType]::ParameterValue, 'terraform apply, under the lock')
            [CompletionResult]::new('destroy', 'destroy', [CompletionResultType]::ParameterValue, 'terraform destroy, under the lock')
            [CompletionResult]::new('console', 'console', [CompletionResultType]::ParameterValue, 'terraform console (no lock)')
            [CompletionResult]::new('fmt', 'fmt', [CompletionResultType]::ParameterValue, 'terraform fmt (no lock)')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'terraform get (no lock)')
            [CompletionResult]::new('graph', 'graph', [CompletionResultType]::ParameterValue, 'terraform graph (no lock)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'terraform import, under the lock')
            [CompletionResult]::new('login', 'login', [CompletionResultType]::ParameterValue, 'terraform login (no lock)')
            [CompletionResult]::new('logout', 'logout', [CompletionResultType]::ParameterValue, 'terraform logout (no lock)')
            [CompletionResult]::new('metadata', 'metadata', [CompletionResultType]::ParameterValue, 'terraform metadata (no lock)')
            [CompletionResult]::new('modules', 'modules', [CompletionResultType]::ParameterValue, 'terraform modules (no lock)')
            [CompletionResult]::new('output', 'output', [CompletionResultType]::ParameterValue, 'terraform output (no lock)')
            [CompletionResult]::new('providers', 'providers', [CompletionResultType]::ParameterValue, 'terraform providers (no lock)')
            [CompletionResult]::new('refresh', 'refresh', [CompletionResultType]::ParameterValue, 'terraform refresh, under the lock')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'terraform show (no lock)')
            [CompletionResult]::new('taint', 'taint', [CompletionResultType]::ParameterValue, 'terraform taint, under the lock')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'terraform test (no lock)')
            [CompletionResult]::new('untaint', 'untaint', [CompletionResultType]::ParameterValue, 'terraform untaint, under the lock')
            [CompletionResult]::new('version', 'version', [CompletionResultType]::ParameterValue, 'terraform version (no lock)')
            [CompletionResult]::new('state', 'state', [CompletionResultType]::ParameterValue, 'terraform state commands, and tflock''s state ack and state versions')
            [CompletionResult]::new('workspace', 'workspace', [CompletionResultType]::ParameterValue, 'terraform workspace (no lock)')
            break
        }
        'tflock;run' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;status' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every lease in the table, and terraform locks with no lease beside them')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;force-unlock' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, for the audit record')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--verify', '--verify', [CompletionResultType]::ParameterName, 'Prove the holder dead (its lease silent for a full lease, observed from here) before removing anything')
            [CompletionResult]::new('--keep-terraform-lock', '--keep-terraform-lock', [CompletionResultType]::ParameterName, 'Leave terraform''s own lock item in place even when it is the dead holder''s')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (the unguarded path)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask for confirmation (the unguarded path)')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;setup' {
            [CompletionResult]::new('--bucket', '--bucket', [CompletionResultType]::ParameterName, 'The state bucket to check [default: the backend''s bucket]')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;doctor' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;history' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'How far back')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every lock in the table, not just this directory''s')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;stats' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'How far back')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every lock in the table, not just this directory''s')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;drill' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;config' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;completions' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;man' {
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'DynamoDB table for the lease [default: the backend''s dynamodb_table]')
            [CompletionResult]::new('--lock-key', '--lock-key', [CompletionResultType]::ParameterName, 'Name of the lock [default: <bucket>/<state path> from the backend]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]')
            [CompletionResult]::new('--lease', '--lease', [CompletionResultType]::ParameterName, 'Lease duration: a holder silent this long may be proved dead [default: 30s]')
            [CompletionResult]::new('--heartbeat', '--heartbeat', [CompletionResultType]::ParameterName, 'Interval between lease renewals, at most lease/3 (the default)')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124')
            [CompletionResult]::new('--history-retention', '--history-retention', [CompletionResultType]::ParameterName, 'How long lock history is kept (a TTL on its items) [default: 90d]')
            [CompletionResult]::new('--terraform-bin', '--terraform-bin', [CompletionResultType]::ParameterName, 'The terraform program to run [default: terraform]')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--chdir', '--chdir', [CompletionResultType]::ParameterName, 'Run as if started in DIR')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format for tflock''s own messages and reports')
            [CompletionResult]::new('--takeover-stale', '--takeover-stale', [CompletionResultType]::ParameterName, 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`')
            [CompletionResult]::new('--backup', '--backup', [CompletionResultType]::ParameterName, 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only warnings and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;init' {
            break
        }
        'tflock;validate' {
            break
        }
        'tflock;plan' {
            break
        }
        'tflock;apply' {
            break
        }
        'tflock;destroy' {
            break
        }
        'tflock;console' {
            break
        }
        'tflock;fmt' {
            break
        }
        'tflock;get' {
            break
        }
        'tflock;graph' {
            break
        }
        'tflock;import' {
            break
        }
        'tflock;login' {
            break
        }
        'tflock;logout' {
            break
        }
        'tflock;metadata' {
            break
        }
        'tflock;modules' {
            break
        }
        'tflock;output' {
            break
        }
        'tflock;providers' {
            break
        }
        'tflock;refresh' {
            break
        }
        'tflock;show' {
            break
        }
        'tflock;taint' {
            break
        }
        'tflock;test' {
            break
        }
        'tflock;untaint' {
            break
        }
        'tflock;version' {
            break
        }
        'tflock;state' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Accept the state as it is now after a write outside the lock (clears --strict''s refusal)')
            [CompletionResult]::new('versions', 'versions', [CompletionResultType]::ParameterValue, 'The state object''s versions (versioned buckets), with serial and lineage')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'terraform state list (no lock)')
            [CompletionResult]::new('mv', 'mv', [CompletionResultType]::ParameterValue, 'terraform state mv, under the lock')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'terraform state pull (no lock)')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'terraform state push, under the lock')
            [CompletionResult]::new('replace-provider', 'replace-provider', [CompletionResultType]::ParameterValue, 'terraform state replace-provider, under the lock')
            [CompletionResult]::new('rm', 'rm', [CompletionResultType]::ParameterValue, 'terraform state rm, under the lock')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'terraform state show (no lock)')
            break
        }
        'tflock;state;ack' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, for the history')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;state;versions' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'How many, newest first (1 to 1000: one listing page)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'tflock;state;list' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;state;mv' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;state;pull' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;state;push' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;state;replace-provider' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;state;rm' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;state;show' {
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format (also accepted here, after `state`)')
            break
        }
        'tflock;workspace' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'terraform workspace')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'terraform workspace')
            [CompletionResult]::new('new', 'new', [CompletionResultType]::ParameterValue, 'terraform workspace')
            [CompletionResult]::new('select', 'select', [CompletionResultType]::ParameterValue, 'terraform workspace')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'terraform workspace')
            break
        }
        'tflock;workspace;delete' {
            break
        }
        'tflock;workspace;list' {
            break
        }
        'tflock;workspace;new' {
            break
        }
        'tflock;workspace;select' {
            break
        }
        'tflock;workspace;show' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
