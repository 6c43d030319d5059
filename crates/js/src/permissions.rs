//! Which `ccf.kv` operations each execution context may run on which table
//! (spec/ccf-api.md §4 "Permissions", spec/ccf-js.md §3.3 permission matrix, CCF's
//! `permissions_checks.h`).

/// The execution context of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExecContext {
    /// `validate`, ballots, `resolve`: governance read-only.
    GovRo,
    /// `apply`: governance read-write.
    GovRw,
    /// A `readwrite` application endpoint.
    AppRw,
    /// A `readonly` or `historical` application endpoint.
    AppRo,
}

impl ExecContext {
    /// The words CCF uses for the context in permission errors.
    pub fn describe(self) -> &'static str {
        match self {
            ExecContext::GovRo => "read-only governance",
            ExecContext::GovRw => "read-write governance",
            ExecContext::AppRw => "read-write application",
            ExecContext::AppRo => "read-only application",
        }
    }
}

/// What a context may do with one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapAccess {
    /// No operation at all.
    Illegal,
    ReadOnly,
    /// `set`, `delete`, `clear` only (GOV_RW on public application tables, CCF 6.0.8+).
    WriteOnly,
    ReadWrite,
}

impl MapAccess {
    pub fn can_read(self) -> bool {
        matches!(self, MapAccess::ReadOnly | MapAccess::ReadWrite)
    }

    pub fn can_write(self) -> bool {
        matches!(self, MapAccess::WriteOnly | MapAccess::ReadWrite)
    }

    /// The adjective in CCF's error text ("This table is read-only in …").
    pub fn describe(self) -> &'static str {
        match self {
            MapAccess::Illegal => "not accessible",
            MapAccess::ReadOnly => "read-only",
            MapAccess::WriteOnly => "write-only",
            MapAccess::ReadWrite => "read-write",
        }
    }
}

/// The category of a table, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapCategory {
    /// `ccf.internal.*`
    Internal,
    /// `ccf.gov.*`
    Governance,
    /// Any other `ccf.*` name: reserved, never accessible from JavaScript.
    Reserved,
    /// Everything else: the application's.
    Application,
}

/// Category and public-ness of `name` (`public:` prefix = public domain).
pub fn classify(name: &str) -> (MapCategory, bool) {
    let (public, bare) = match name.strip_prefix("public:") {
        Some(rest) => (true, rest),
        None => (false, name),
    };
    let category = if bare.starts_with("ccf.internal.") {
        MapCategory::Internal
    } else if bare.starts_with("ccf.gov.") {
        MapCategory::Governance
    } else if bare.starts_with("ccf.") {
        MapCategory::Reserved
    } else {
        MapCategory::Application
    };
    (category, public)
}

/// What `context` may do with the table `name` (CCF 6.0.8+'s matrix, spec/ccf-js.md §3.3).
pub fn access(context: ExecContext, name: &str) -> MapAccess {
    let (category, public) = classify(name);
    match (context, category, public) {
        (_, MapCategory::Reserved, _) => MapAccess::Illegal,
        // Applications own their tables, public and private alike.
        (ExecContext::AppRw, MapCategory::Application, _) => MapAccess::ReadWrite,
        (ExecContext::AppRo, MapCategory::Application, _) => MapAccess::ReadOnly,
        // Private governance and internal tables are never visible to JavaScript, and private
        // application tables never to governance code.
        (_, _, false) => MapAccess::Illegal,
        (_, _, true) => public_access(context, category),
    }
}

/// The rows of the matrix for public tables that are not application tables of an app context.
fn public_access(context: ExecContext, category: MapCategory) -> MapAccess {
    match (context, category) {
        (_, MapCategory::Reserved) => MapAccess::Illegal,
        (_, MapCategory::Internal) => MapAccess::ReadOnly,
        (ExecContext::AppRw | ExecContext::AppRo, _) => MapAccess::ReadOnly,
        (ExecContext::GovRo, MapCategory::Governance) => MapAccess::ReadOnly,
        (ExecContext::GovRw, MapCategory::Governance) => MapAccess::ReadWrite,
        (ExecContext::GovRo, MapCategory::Application) => MapAccess::Illegal,
        (ExecContext::GovRw, MapCategory::Application) => MapAccess::WriteOnly,
    }
}

/// The TypeError text for `method` refused on `table` (wording of CCF's `kv_helpers.h`).
pub fn denied_message(
    method: &str,
    table: &str,
    allowed: MapAccess,
    context: ExecContext,
) -> String {
    format!(
        "Cannot call {method} on table named {table}. This table is {} in current ({}) execution \
         context. See https://microsoft.github.io/CCF/main/audit/read_write_restrictions.html for \
         more detail.",
        allowed.describe(),
        context.describe()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gov_ro_reads_gov_and_internal_and_nothing_else() {
        let ro = ExecContext::GovRo;
        assert_eq!(
            access(ro, "public:ccf.gov.members.info"),
            MapAccess::ReadOnly
        );
        assert_eq!(
            access(ro, "public:ccf.internal.signatures"),
            MapAccess::ReadOnly
        );
        assert_eq!(access(ro, "public:my_app_table"), MapAccess::Illegal);
        assert_eq!(access(ro, "my_private_table"), MapAccess::Illegal);
        assert_eq!(access(ro, "ccf.gov.private_thing"), MapAccess::Illegal);
    }

    #[test]
    fn gov_rw_writes_gov_reads_internal_writes_only_public_app_tables() {
        let rw = ExecContext::GovRw;
        assert_eq!(
            access(rw, "public:ccf.gov.members.info"),
            MapAccess::ReadWrite
        );
        assert_eq!(access(rw, "public:ccf.internal.tree"), MapAccess::ReadOnly);
        assert_eq!(access(rw, "public:records"), MapAccess::WriteOnly);
        assert_eq!(access(rw, "records"), MapAccess::Illegal);
        assert_eq!(access(rw, "ccf.internal.x"), MapAccess::Illegal);
    }

    #[test]
    fn app_rw_owns_app_tables_and_reads_public_gov_and_internal_ones() {
        let rw = ExecContext::AppRw;
        assert_eq!(access(rw, "records"), MapAccess::ReadWrite);
        assert_eq!(access(rw, "public:records"), MapAccess::ReadWrite);
        assert_eq!(
            access(rw, "public:ccf.gov.users.certs"),
            MapAccess::ReadOnly
        );
        assert_eq!(access(rw, "public:ccf.internal.tree"), MapAccess::ReadOnly);
        assert_eq!(access(rw, "ccf.gov.secret"), MapAccess::Illegal);
        assert_eq!(access(rw, "ccf.internal.secret"), MapAccess::Illegal);
    }

    #[test]
    fn app_ro_reads_what_app_rw_may_touch_and_writes_nothing() {
        let ro = ExecContext::AppRo;
        assert_eq!(access(ro, "records"), MapAccess::ReadOnly);
        assert_eq!(access(ro, "public:records"), MapAccess::ReadOnly);
        assert_eq!(access(ro, "public:ccf.gov.users.info"), MapAccess::ReadOnly);
        assert_eq!(access(ro, "ccf.internal.secret"), MapAccess::Illegal);
        let text = denied_message("set", "records", MapAccess::ReadOnly, ro);
        assert!(text.contains("read-only in current (read-only application) execution context"));
    }

    #[test]
    fn reserved_ccf_names_are_illegal_everywhere() {
        for context in [
            ExecContext::GovRo,
            ExecContext::GovRw,
            ExecContext::AppRw,
            ExecContext::AppRo,
        ] {
            assert_eq!(
                access(context, "public:ccf.other.table"),
                MapAccess::Illegal
            );
        }
    }

    #[test]
    fn denied_message_names_the_table_and_the_context() {
        let text = denied_message(
            "set",
            "public:ccf.gov.x",
            MapAccess::ReadOnly,
            ExecContext::GovRo,
        );
        assert!(text.starts_with(
            "Cannot call set on table named public:ccf.gov.x. This table is read-only in current \
             (read-only governance) execution context."
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn private_tables_are_illegal_in_both_contexts(name in "[a-z.:_]{0,24}") {
            prop_assume!(!name.starts_with("public:"));
            prop_assert_eq!(access(ExecContext::GovRo, &name), MapAccess::Illegal);
            prop_assert_eq!(access(ExecContext::GovRw, &name), MapAccess::Illegal);
        }

        #[test]
        fn app_ro_never_writes_and_app_rw_never_loses_a_read(name in "(public:)?(ccf\\.(gov|internal|x)\\.)?[a-z_]{0,12}") {
            let ro = access(ExecContext::AppRo, &name);
            let rw = access(ExecContext::AppRw, &name);
            prop_assert!(!ro.can_write());
            prop_assert!(!ro.can_read() || rw.can_read());
            // Applications never write governance or internal tables.
            let (category, _) = classify(&name);
            prop_assert!(rw.can_write() == (category == MapCategory::Application));
        }

        #[test]
        fn gov_ro_never_writes_and_rw_never_loses_a_read(name in "(public:)?(ccf\\.(gov|internal|x)\\.)?[a-z_]{0,12}") {
            prop_assert!(!access(ExecContext::GovRo, &name).can_write());
            let ro = access(ExecContext::GovRo, &name);
            let rw = access(ExecContext::GovRw, &name);
            prop_assert!(!ro.can_read() || rw.can_read());
        }
    }
}
