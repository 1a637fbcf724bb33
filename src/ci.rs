//! The URL of the CI job running tflock, from the variables each CI system
//! sets, so a lock record says which job holds it.

use crate::settings::EnvLookup;

pub fn job_url(env: EnvLookup) -> Option<String> {
    // GitHub Actions: the run page (the job id is not in the environment).
    if env("GITHUB_ACTIONS").as_deref() == Some("true")
        && let (Some(server), Some(repo), Some(run)) = (
            env("GITHUB_SERVER_URL"),
            env("GITHUB_REPOSITORY"),
            env("GITHUB_RUN_ID"),
        )
    {
        let attempt = env("GITHUB_RUN_ATTEMPT")
            .map(|a| format!("/attempts/{a}"))
            .unwrap_or_default();
        return Some(format!("{server}/{repo}/actions/runs/{run}{attempt}"));
    }
    if let Some(url) = env("CI_JOB_URL") {
        return Some(url); // GitLab CI
    }
    if let Some(build) = env("BUILDKITE_BUILD_URL") {
        return Some(match env("BUILDKITE_JOB_ID") {
            Some(job) => format!("{build}#{job}"),
            None => build,
        });
    }
    if let Some(url) = env("CIRCLE_BUILD_URL") {
        return Some(url);
    }
    if let (Some(collection), Some(project), Some(build)) = (
        env("SYSTEM_COLLECTIONURI"),
        env("SYSTEM_TEAMPROJECT"),
        env("BUILD_BUILDID"),
    ) {
        // Azure Pipelines
        let collection = collection.trim_end_matches('/');
        return Some(format!(
            "{collection}/{project}/_build/results?buildId={build}"
        ));
    }
    env("BUILD_URL") // Jenkins
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn url(pairs: &[(&str, &str)]) -> Option<String> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        job_url(&|k| map.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn each_ci_system() {
        assert_eq!(
            url(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_SERVER_URL", "https://github.com"),
                ("GITHUB_REPOSITORY", "o/r"),
                ("GITHUB_RUN_ID", "42"),
                ("GITHUB_RUN_ATTEMPT", "2")
            ])
            .as_deref(),
            Some("https://github.com/o/r/actions/runs/42/attempts/2")
        );
        assert_eq!(
            url(&[("CI_JOB_URL", "https://gitlab.com/o/r/-/jobs/9")]).as_deref(),
            Some("https://gitlab.com/o/r/-/jobs/9")
        );
        assert_eq!(
            url(&[
                ("BUILDKITE_BUILD_URL", "https://bk/b/1"),
                ("BUILDKITE_JOB_ID", "j")
            ])
            .as_deref(),
            Some("https://bk/b/1#j")
        );
        assert_eq!(
            url(&[("CIRCLE_BUILD_URL", "https://circle/1")]).as_deref(),
            Some("https://circle/1")
        );
        assert_eq!(
            url(&[("BUILD_URL", "https://jenkins/job/x/3/")]).as_deref(),
            Some("https://jenkins/job/x/3/")
        );
        assert_eq!(
            url(&[
                ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/org/"),
                ("SYSTEM_TEAMPROJECT", "p"),
                ("BUILD_BUILDID", "5")
            ])
            .as_deref(),
            Some("https://dev.azure.com/org/p/_build/results?buildId=5")
        );
        assert_eq!(url(&[]), None);
        assert_eq!(
            url(&[("GITHUB_ACTIONS", "true")]),
            None,
            "incomplete variables give no URL"
        );
    }
}
