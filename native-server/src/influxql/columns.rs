//! The columns of one measurement as InfluxQL names them: tags, fields of a type, and
//! numeric fields read as another type (`usage::integer`).

use arrow::datatypes::DataType;
use linegate::schema::FieldType;
use linegate_influxql::VarType;

use crate::catalog::TableDef;

/// The columns of one measurement: what `*`, regexes and names resolve against.
#[derive(Debug, Clone)]
pub struct Table {
    /// The measurement.
    pub name: String,
    /// Tag keys in series-key order.
    pub tags: Vec<String>,
    /// Fields and their types, in creation order.
    pub fields: Vec<(String, FieldType)>,
}

impl Table {
    /// The columns of a stored table.
    pub fn new(def: &TableDef) -> Table {
        Table {
            name: def.name.clone(),
            tags: def.columns.tags().to_vec(),
            fields: def.columns.fields().to_vec(),
        }
    }

    pub(super) fn is_tag(&self, name: &str) -> bool {
        self.tags.iter().any(|t| t == name)
    }

    pub(super) fn field(&self, name: &str) -> Option<FieldType> {
        self.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, ty)| *ty)
    }
}

/// What a name refers to in a measurement.
pub(super) enum Column {
    Tag,
    Field(FieldType),
    /// A numeric field read as another numeric type (`usage::integer` truncates).
    Cast(FieldType, DataType),
    Missing,
}

pub(super) fn column(table: &Table, name: &str, data_type: Option<VarType>) -> Column {
    let tag = table.is_tag(name);
    let field = table.field(name);
    match (data_type, tag, field) {
        (Some(VarType::Tag), true, _) => Column::Tag,
        (Some(VarType::Tag), false, _) => Column::Missing,
        (Some(VarType::Field), _, Some(ty)) => Column::Field(ty),
        (Some(VarType::Field), _, None) => Column::Missing,
        (Some(cast), _, Some(ty)) if cast_matches(cast, ty) => Column::Field(ty),
        (Some(VarType::Float), _, Some(ty)) if numeric(ty) => {
            Column::Cast(FieldType::Float, DataType::Float64)
        }
        (Some(VarType::Integer), _, Some(ty)) if numeric(ty) => {
            Column::Cast(FieldType::Integer, DataType::Int64)
        }
        (Some(_), _, _) => Column::Missing,
        (None, _, Some(ty)) => Column::Field(ty),
        (None, true, None) => Column::Tag,
        (None, false, None) => Column::Missing,
    }
}

pub(super) fn cast_matches(cast: VarType, ty: FieldType) -> bool {
    matches!(
        (cast, ty),
        (VarType::Float, FieldType::Float)
            | (VarType::Integer, FieldType::Integer)
            | (VarType::Unsigned, FieldType::UInteger)
            | (VarType::String, FieldType::String)
            | (VarType::Boolean, FieldType::Boolean)
    )
}

pub(super) fn numeric(ty: FieldType) -> bool {
    matches!(
        ty,
        FieldType::Float | FieldType::Integer | FieldType::UInteger
    )
}
