
use builtin;
use str;

set edit:completion:arg-completer[tflock] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'tflock'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'tflock'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run any command under the lock: tflock run [--] CMD [ARGS...]'
            cand status 'Show who holds the lock, since when, and terraform''s own lock item'
            cand force-unlock 'Remove a stuck lock: --verify proves its holder dead first; LOCK_ID is the unguarded path'
            cand setup 'Create the lock table (and check the state bucket); safe to run again'
            cand doctor 'Check the backend, table, credentials, clock and terraform: one line per check'
            cand history 'Every acquisition, wait, takeover and force-unlock of the lock'
            cand stats 'Contention per lock: runs, waits, hold times, lease losses, force-unlocks'
            cand drill 'A fire drill on a scratch lock: a holder dies, and is recovered with force-unlock --verify'
            cand config 'The effective settings here and where each came from (flag, variable, .tflock.toml, backend, default)'
            cand completions 'Print a shell completion script (tflock''s commands and terraform''s)'
            cand man 'Print the man page (roff): tflock man > tflock.1'
            cand init 'terraform init (no lock: passed to terraform)'
            cand validate 'terraform validate (no lock)'
            cand plan 'terraform plan, under the lock'
            cand apply 'terraform apply, under the lock'
            cand destroy 'terraform destroy, under the lock'
            cand console 'terraform console (no lock)'
            cand fmt 'terraform fmt (no lock)'
            cand get 'terraform get (no lock)'
            cand graph 'terraform graph (no lock)'
            cand import 'terraform import, under the lock'
            cand login 'terraform login (no lock)'
            cand logout 'terraform logout (no lock)'
            cand metadata 'terraform metadata (no lock)'
            cand modules 'terraform modules (no lock)'
            cand output 'terraform output (no lock)'
            cand providers 'terraform providers (no lock)'
            cand refresh 'terraform refresh, under the lock'
            cand show 'terraform show (no lock)'
            cand taint 'terraform taint, under the lock'
            cand test 'terraform test (no lock)'
            cand untaint 'terraform untaint, under the lock'
            cand version 'terraform version (no lock)'
            cand state 'terraform state commands, and tflock''s state ack and state versions'
            cand workspace 'terraform workspace (no lock)'
        }
        &'tflock;run'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;status'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --all 'Every lease in the table, and terraform locks with no lease beside them'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;force-unlock'= {
            cand --reason 'Why, for the audit record'
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --verify 'Prove the holder dead (its lease silent for a full lease, observed from here) before removing anything'
            cand --keep-terraform-lock 'Leave terraform''s own lock item in place even when it is the dead holder''s'
            cand -y 'Do not ask for confirmation (the unguarded path)'
            cand --yes 'Do not ask for confirmation (the unguarded path)'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;setup'= {
            cand --bucket 'The state bucket to check [default: the backend''s bucket]'
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;doctor'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;history'= {
            cand --since 'How far back'
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --all 'Every lock in the table, not just this directory''s'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;stats'= {
            cand --since 'How far back'
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --all 'Every lock in the table, not just this directory''s'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;drill'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;config'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;completions'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;man'= {
            cand --table 'DynamoDB table for the lease [default: the backend''s dynamodb_table]'
            cand --lock-key 'Name of the lock [default: <bucket>/<state path> from the backend]'
            cand --lock-timeout 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform''s -lock-timeout]'
            cand --lease 'Lease duration: a holder silent this long may be proved dead [default: 30s]'
            cand --heartbeat 'Interval between lease renewals, at most lease/3 (the default)'
            cand --max-duration 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124'
            cand --history-retention 'How long lock history is kept (a TTL on its items) [default: 90d]'
            cand --terraform-bin 'The terraform program to run [default: terraform]'
            cand -C 'Run as if started in DIR'
            cand --chdir 'Run as if started in DIR'
            cand --region 'AWS region of the lock table [default: the backend''s region, else AWS_REGION]'
            cand --output 'Output format for tflock''s own messages and reports'
            cand --takeover-stale 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
            cand --strict 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
            cand --backup 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
            cand -q 'Print only warnings and errors'
            cand --quiet 'Print only warnings and errors'
            cand -v 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand --verbose 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK''s own records (RUST_LOG overrides both)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;init'= {
        }
        &'tflock;validate'= {
        }
        &'tflock;plan'= {
        }
        &'tflock;apply'= {
        }
        &'tflock;destroy'= {
        }
        &'tflock;console'= {
        }
        &'tflock;fmt'= {
        }
        &'tflock;get'= {
        }
        &'tflock;graph'= {
        }
        &'tflock;import'= {
        }
        &'tflock;login'= {
        }
        &'tflock;logout'= {
        }
        &'tflock;metadata'= {
        }
        &'tflock;modules'= {
        }
        &'tflock;output'= {
        }
        &'tflock;providers'= {
        }
        &'tflock;refresh'= {
        }
        &'tflock;show'= {
        }
        &'tflock;taint'= {
        }
        &'tflock;test'= {
        }
        &'tflock;untaint'= {
        }
        &'tflock;version'= {
        }
        &'tflock;state'= {
            cand --output 'Output format (also accepted here, after `state`)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand ack 'Accept the state as it is now after a write outside the lock (clears --strict''s refusal)'
            cand versions 'The state object''s versions (versioned buckets), with serial and lineage'
            cand list 'terraform state list (no lock)'
            cand mv 'terraform state mv, under the lock'
            cand pull 'terraform state pull (no lock)'
            cand push 'terraform state push, under the lock'
            cand replace-provider 'terraform state replace-provider, under the lock'
            cand rm 'terraform state rm, under the lock'
            cand show 'terraform state show (no lock)'
        }
        &'tflock;state;ack'= {
            cand --reason 'Why, for the history'
            cand --output 'Output format (also accepted here, after `state`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;state;versions'= {
            cand --limit 'How many, newest first (1 to 1000: one listing page)'
            cand --output 'Output format (also accepted here, after `state`)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'tflock;state;list'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;state;mv'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;state;pull'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;state;push'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;state;replace-provider'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;state;rm'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;state;show'= {
            cand --output 'Output format (also accepted here, after `state`)'
        }
        &'tflock;workspace'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand delete 'terraform workspace'
            cand list 'terraform workspace'
            cand new 'terraform workspace'
            cand select 'terraform workspace'
            cand show 'terraform workspace'
        }
        &'tflock;workspace;delete'= {
        }
        &'tflock;workspace;list'= {
        }
        &'tflock;workspace;new'= {
        }
        &'tflock;workspace;select'= {
        }
        &'tflock;workspace;show'= {
        }
    ]
    $completions[$command]
}
