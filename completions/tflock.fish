# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tflock_global_optspecs
    string join \n table= lock-key= lock-timeout= lease= heartbeat= max-duration= takeover-stale strict backup history-retention= terraform-bin= C/chdir= region= output= q/quiet v/verbose h/help V/version
end

function __fish_tflock_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tflock_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tflock_using_subcommand
    set -l cmd (__fish_tflock_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tflock -n "__fish_tflock_needs_command" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_needs_command" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_needs_command" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_needs_command" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_needs_command" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_needs_command" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_needs_command" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_needs_command" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_needs_command" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_needs_command" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_needs_command" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_needs_command" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_needs_command" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_needs_command" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_needs_command" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_needs_command" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_needs_command" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_needs_command" -s V -l version -d 'Print version'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "run" -d 'Run any command under the lock: tflock run [--] CMD [ARGS...]'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "status" -d 'Show who holds the lock, since when, and terraform\'s own lock item'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "force-unlock" -d 'Remove a stuck lock: --verify proves its holder dead first; LOCK_ID is the unguarded path'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "setup" -d 'Create the lock table (and check the state bucket); safe to run again'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "doctor" -d 'Check the backend, table, credentials, clock and terraform: one line per check'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "history" -d 'Every acquisition, wait, takeover and force-unlock of the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "stats" -d 'Contention per lock: runs, waits, hold times, lease losses, force-unlocks'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "drill" -d 'A fire drill on a scratch lock: a holder dies, and is recovered with force-unlock --verify'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "config" -d 'The effective settings here and where each came from (flag, variable, .tflock.toml, backend, default)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "completions" -d 'Print a shell completion script (tflock\'s commands and terraform\'s)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "man" -d 'Print the man page (roff): tflock man > tflock.1'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "init" -d 'terraform init (no lock: passed to terraform)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "validate" -d 'terraform validate (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "plan" -d 'terraform plan, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "apply" -d 'terraform apply, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "destroy" -d 'terraform destroy, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "console" -d 'terraform console (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "fmt" -d 'terraform fmt (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "get" -d 'terraform get (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "graph" -d 'terraform graph (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "import" -d 'terraform import, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "login" -d 'terraform login (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "logout" -d 'terraform logout (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "metadata" -d 'terraform metadata (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "modules" -d 'terraform modules (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "output" -d 'terraform output (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "providers" -d 'terraform providers (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "refresh" -d 'terraform refresh, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "show" -d 'terraform show (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "taint" -d 'terraform taint, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "test" -d 'terraform test (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "untaint" -d 'terraform untaint, under the lock'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "version" -d 'terraform version (no lock)'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "state" -d 'terraform state commands, and tflock\'s state ack and state versions'
complete -c tflock -n "__fish_tflock_needs_command" -f -a "workspace" -d 'terraform workspace (no lock)'
complete -c tflock -n "__fish_tflock_using_subcommand run" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand run" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand run" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand run" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand run" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand run" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand run" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand run" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand run" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand status" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand status" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand status" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand status" -l all -d 'Every lease in the table, and terraform locks with no lease beside them'
complete -c tflock -n "__fish_tflock_using_subcommand status" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand status" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand status" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand status" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand status" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand status" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l reason -d 'Why, for the audit record' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l verify -d 'Prove the holder dead (its lease silent for a full lease, observed from here) before removing anything'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l keep-terraform-lock -d 'Leave terraform\'s own lock item in place even when it is the dead holder\'s'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -s y -l yes -d 'Do not ask for confirmation (the unguarded path)'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand force-unlock" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l bucket -d 'The state bucket to check [default: the backend\'s bucket]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand setup" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand setup" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand setup" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand setup" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand history" -l since -d 'How far back' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand history" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand history" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand history" -l all -d 'Every lock in the table, not just this directory\'s'
complete -c tflock -n "__fish_tflock_using_subcommand history" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand history" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand history" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand history" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand history" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand history" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l since -d 'How far back' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l all -d 'Every lock in the table, not just this directory\'s'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand stats" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand drill" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand drill" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand drill" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand drill" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand config" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand config" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand config" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand config" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand config" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand config" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand config" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand config" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand config" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand completions" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand completions" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand completions" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand completions" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand man" -l table -d 'DynamoDB table for the lease [default: the backend\'s dynamodb_table]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l lock-key -d 'Name of the lock [default: <bucket>/<state path> from the backend]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l lock-timeout -d 'How long to wait for a held lock; 0s fails at once [default: 0s, or terraform\'s -lock-timeout]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l lease -d 'Lease duration: a holder silent this long may be proved dead [default: 30s]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l heartbeat -d 'Interval between lease renewals, at most lease/3 (the default)' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l max-duration -d 'Interrupt the command (once, SIGINT) when it runs longer than this; exit 124' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l history-retention -d 'How long lock history is kept (a TTL on its items) [default: 90d]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l terraform-bin -d 'The terraform program to run [default: terraform]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -s C -l chdir -d 'Run as if started in DIR' -r -F
complete -c tflock -n "__fish_tflock_using_subcommand man" -l region -d 'AWS region of the lock table [default: the backend\'s region, else AWS_REGION]' -r
complete -c tflock -n "__fish_tflock_using_subcommand man" -l output -d 'Output format for tflock\'s own messages and reports' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand man" -l takeover-stale -d 'While waiting, take over a lease proved stale (as force-unlock --verify proves it)'
complete -c tflock -n "__fish_tflock_using_subcommand man" -l strict -d 'Refuse to run when the state was written outside the lock (or is not a terraform state) until `tflock state ack`'
complete -c tflock -n "__fish_tflock_using_subcommand man" -l backup -d 'Copy the state to <key>.tflock-backup/<time> before a run when the bucket keeps no versions'
complete -c tflock -n "__fish_tflock_using_subcommand man" -s q -l quiet -d 'Print only warnings and errors'
complete -c tflock -n "__fish_tflock_using_subcommand man" -s v -l verbose -d 'Print more detail: -v also logs each DynamoDB and S3 call with its latency, -vv the AWS SDK\'s own records (RUST_LOG overrides both)'
complete -c tflock -n "__fish_tflock_using_subcommand man" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "ack" -d 'Accept the state as it is now after a write outside the lock (clears --strict\'s refusal)'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "versions" -d 'The state object\'s versions (versioned buckets), with serial and lineage'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "list" -d 'terraform state list (no lock)'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "mv" -d 'terraform state mv, under the lock'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "pull" -d 'terraform state pull (no lock)'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "push" -d 'terraform state push, under the lock'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "replace-provider" -d 'terraform state replace-provider, under the lock'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "rm" -d 'terraform state rm, under the lock'
complete -c tflock -n "__fish_tflock_using_subcommand state; and not __fish_seen_subcommand_from ack versions list mv pull push replace-provider rm show" -f -a "show" -d 'terraform state show (no lock)'
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from ack" -l reason -d 'Why, for the history' -r
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from ack" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from ack" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from versions" -l limit -d 'How many, newest first (1 to 1000: one listing page)' -r
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from versions" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from versions" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from list" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from mv" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from pull" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from push" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from replace-provider" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from rm" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand state; and __fish_seen_subcommand_from show" -l output -d 'Output format (also accepted here, after `state`)' -r -f -a "text\t''
json\t''"
complete -c tflock -n "__fish_tflock_using_subcommand workspace; and not __fish_seen_subcommand_from delete list new select show" -s h -l help -d 'Print help'
complete -c tflock -n "__fish_tflock_using_subcommand workspace; and not __fish_seen_subcommand_from delete list new select show" -f -a "delete" -d 'terraform workspace'
complete -c tflock -n "__fish_tflock_using_subcommand workspace; and not __fish_seen_subcommand_from delete list new select show" -f -a "list" -d 'terraform workspace'
complete -c tflock -n "__fish_tflock_using_subcommand workspace; and not __fish_seen_subcommand_from delete list new select show" -f -a "new" -d 'terraform workspace'
complete -c tflock -n "__fish_tflock_using_subcommand workspace; and not __fish_seen_subcommand_from delete list new select show" -f -a "select" -d 'terraform workspace'
complete -c tflock -n "__fish_tflock_using_subcommand workspace; and not __fish_seen_subcommand_from delete list new select show" -f -a "show" -d 'terraform workspace'
