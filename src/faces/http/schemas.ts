import { type TSchema, Type as T } from '@sinclair/typebox';

/** Schemas shared by the HTTP faces. They validate input and produce the OpenAPI document. */

export const Id = T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
export const IdParam = (name: string) => T.Object({ [name]: Id });
export const DateTime = T.String({ format: 'date-time' });
export const Nullable = <S extends TSchema>(s: S) => T.Union([s, T.Null()]);

export const UserSummary = T.Object(
  {
    id: T.Integer(),
    username: T.String(),
    display_name: T.String(),
    avatar_url: T.String(),
  },
  { additionalProperties: true, description: 'May carry extra fields a host adds (`serializers`).' },
);

export const UserDetail = T.Object(
  {
    id: T.Integer(),
    username: T.String(),
    display_name: T.String(),
    email: T.String(),
    avatar_url: T.String(),
  },
  { additionalProperties: true, description: 'May carry extra fields a host adds (`serializers`).' },
);

export const ErrorDetail = T.Object({ detail: T.String() }, { additionalProperties: true });
export const ErrorInvalid = T.Object(
  { error: T.String(), details: T.Record(T.String(), T.Array(T.String())) },
);
export const ErrorInternal = T.Object({ error: T.String() });

/** The error responses every authenticated route may give, for the OpenAPI document. */
export const commonErrors = {
  400: ErrorInvalid,
  401: ErrorDetail,
  403: ErrorDetail,
  404: ErrorDetail,
  500: ErrorInternal,
} as const;

export const dmCommonErrors = {
  400: ErrorDetail,
  401: ErrorDetail,
  404: ErrorDetail,
} as const;
