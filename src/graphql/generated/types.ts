import type { GraphQLResolveInfo } from 'graphql';
import type { Message as MessageModel, Dispatch as DispatchModel, MessageEvent as MessageEventModel } from '../../domain/message.ts';
import type { DeliveryError as DeliveryErrorModel } from '../../domain/delivery-error.ts';
import type { SmtpSettingsView as SmtpConfigModel } from '../../delivery/smtp-settings.ts';
import type { GraphQLContext } from '../context.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
};

export type ConfigureSmtpInput = {
  connectionUri: Scalars['String']['input'];
  fromAddress: Scalars['String']['input'];
  fromName?: InputMaybe<Scalars['String']['input']>;
  /** Added to every message sent through this configuration. */
  headers?: InputMaybe<Array<HeaderInput>>;
};

export type DeliveryError = {
  __typename?: 'DeliveryError';
  code: DeliveryErrorCode;
  /** The SMTP command or phase that failed. */
  command?: Maybe<Scalars['String']['output']>;
  /** RFC 3463, e.g. "5.1.1". */
  enhancedStatus?: Maybe<Scalars['String']['output']>;
  /** What to do about it. */
  hint?: Maybe<Scalars['String']['output']>;
  message: Scalars['String']['output'];
  /** True: it will not be retried. */
  permanent: Scalars['Boolean']['output'];
  /** The server's reply, verbatim. */
  response?: Maybe<Scalars['String']['output']>;
  /** SMTP reply code, e.g. 550. */
  responseCode?: Maybe<Scalars['Int']['output']>;
};

export type DeliveryErrorCode =
  | 'AUTH'
  | 'CONFIG'
  | 'CONNECTION'
  | 'MESSAGE_REJECTED'
  | 'PROTOCOL'
  | 'RECIPIENT_REJECTED'
  | 'SENDER_REJECTED'
  | 'TIMEOUT'
  | 'TLS'
  | 'UNKNOWN';

export type Dispatch = {
  __typename?: 'Dispatch';
  /** ISO 8601 UTC; when the attempt started. */
  at: Scalars['String']['output'];
  attempt: Scalars['Int']['output'];
  durationMs: Scalars['Int']['output'];
  error?: Maybe<DeliveryError>;
  /** The server's final reply on success, e.g. "250 2.0.0 Ok: queued as 4XyZ". */
  response?: Maybe<Scalars['String']['output']>;
  /** The configuration version used; null for the environment or embedded server (addition). */
  smtpConfigVersion?: Maybe<Scalars['Int']['output']>;
  succeeded: Scalars['Boolean']['output'];
};

export type Header = {
  __typename?: 'Header';
  name: Scalars['String']['output'];
  value: Scalars['String']['output'];
};

export type HeaderInput = {
  name: Scalars['String']['input'];
  value: Scalars['String']['input'];
};

export type Message = {
  __typename?: 'Message';
  /** Counts dispatches. */
  attempts: Scalars['Int']['output'];
  /** ISO 8601 UTC with milliseconds. */
  createdAt: Scalars['String']['output'];
  /** One per delivery attempt, oldest first. */
  dispatches: Array<Dispatch>;
  /** Every status change of this message, oldest first (addition). */
  events: Array<MessageEvent>;
  headers: Array<Header>;
  html?: Maybe<Scalars['String']['output']>;
  id: Scalars['ID']['output'];
  idempotencyKey?: Maybe<Scalars['String']['output']>;
  lastError?: Maybe<DeliveryError>;
  /** Attempts allowed before the message is abandoned, counting from its last retry (addition). */
  maxAttempts: Scalars['Int']['output'];
  /** The RFC 5322 Message-ID header, fixed when the message is queued. */
  messageId: Scalars['String']['output'];
  /** When the next attempt is due, while QUEUED (addition). */
  nextAttemptAt?: Maybe<Scalars['String']['output']>;
  recipient: Scalars['String']['output'];
  /** The SMTP configuration version of the last attempt; null for the environment or embedded server (addition). */
  smtpConfigVersion?: Maybe<Scalars['Int']['output']>;
  status: MessageStatus;
  subject: Scalars['String']['output'];
  text?: Maybe<Scalars['String']['output']>;
  /** When the message last changed (addition). */
  updatedAt: Scalars['String']['output'];
};

export type MessageConnection = {
  __typename?: 'MessageConnection';
  edges: Array<MessageEdge>;
  pageInfo: PageInfo;
  totalCount: Scalars['Int']['output'];
};

export type MessageEdge = {
  __typename?: 'MessageEdge';
  cursor: Scalars['String']['output'];
  node: Message;
};

export type MessageEvent = {
  __typename?: 'MessageEvent';
  at: Scalars['String']['output'];
  /** The attempt this change belongs to, when it is about one (addition). */
  attempt?: Maybe<Scalars['Int']['output']>;
  cursor: Scalars['String']['output'];
  error?: Maybe<DeliveryError>;
  /** The message as it is now. */
  message: Message;
  /** The status before this change; null when the message was created (addition). */
  previousStatus?: Maybe<MessageStatus>;
  /** What caused the change, e.g. queued, claimed, sent, retry_scheduled, lease_expired, released_on_shutdown (addition). */
  reason: Scalars['String']['output'];
  status: MessageStatus;
};

export type MessageFilter = {
  /** Messages created at or after this ISO 8601 time (addition). */
  createdAfter?: InputMaybe<Scalars['String']['input']>;
  /** Messages created before this ISO 8601 time (addition). */
  createdBefore?: InputMaybe<Scalars['String']['input']>;
  /** The whole address, case-insensitively. */
  recipient?: InputMaybe<Scalars['String']['input']>;
  status?: InputMaybe<Array<MessageStatus>>;
  /** Case-insensitive substring of the subject (addition). */
  subjectContains?: InputMaybe<Scalars['String']['input']>;
};

export type MessageStatus =
  | 'ABANDONED'
  | 'CANCELLED'
  | 'PROCESSING'
  | 'QUEUED'
  | 'SENT';

export type Mutation = {
  __typename?: 'Mutation';
  /** QUEUED -> CANCELLED. */
  cancelMessage: Message;
  /** Validates and stores a new configuration version; queued mail flows through it from now on. */
  configureSmtp: SmtpConfig;
  /** ABANDONED or CANCELLED -> QUEUED with a fresh budget of DELIVERY_MAX_ATTEMPTS. */
  retryMessage: Message;
  sendEmail: Message;
};


export type MutationCancelMessageArgs = {
  id: Scalars['ID']['input'];
};


export type MutationConfigureSmtpArgs = {
  input: ConfigureSmtpInput;
};


export type MutationRetryMessageArgs = {
  id: Scalars['ID']['input'];
};


export type MutationSendEmailArgs = {
  input: SendEmailInput;
};

export type PageInfo = {
  __typename?: 'PageInfo';
  endCursor?: Maybe<Scalars['String']['output']>;
  hasNextPage: Scalars['Boolean']['output'];
};

/**
 * mailscope's API. The names here are the public contract (see CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type Query = {
  __typename?: 'Query';
  message?: Maybe<Message>;
  /** Newest first. `first` defaults to 50 and may not exceed 500. */
  messages: MessageConnection;
  /** The SMTP configuration in use: the newest stored one, else SMTP_CONNECTION_URI, else the embedded development server. */
  smtpConfig?: Maybe<SmtpConfig>;
  /** Every stored configuration version, newest first (addition). */
  smtpConfigHistory: Array<SmtpConfig>;
};


/**
 * mailscope's API. The names here are the public contract (see CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryMessageArgs = {
  id: Scalars['ID']['input'];
};


/**
 * mailscope's API. The names here are the public contract (see CONTRACT.md); additions are marked
 * in their descriptions.
 */
export type QueryMessagesArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<MessageFilter>;
  first?: InputMaybe<Scalars['Int']['input']>;
};

export type SendEmailInput = {
  headers?: InputMaybe<Array<HeaderInput>>;
  html?: InputMaybe<Scalars['String']['input']>;
  idempotencyKey?: InputMaybe<Scalars['String']['input']>;
  subject: Scalars['String']['input'];
  text?: InputMaybe<Scalars['String']['input']>;
  to: Scalars['String']['input'];
};

export type SmtpConfig = {
  __typename?: 'SmtpConfig';
  /** Password replaced by "***"; never the secret. */
  connectionUri: Scalars['String']['output'];
  /** When this version was stored (addition). */
  createdAt?: Maybe<Scalars['String']['output']>;
  /** True while the embedded development server is in use (then this describes it). */
  embedded: Scalars['Boolean']['output'];
  fromAddress: Scalars['String']['output'];
  fromName?: Maybe<Scalars['String']['output']>;
  /** Headers added to every message (addition). */
  headers: Array<Header>;
  /** Where this configuration comes from (addition). */
  source: SmtpConfigSource;
  /** The stored version; null for the environment or the embedded server (addition). */
  version?: Maybe<Scalars['Int']['output']>;
};

export type SmtpConfigSource =
  /** The embedded development SMTP server, used while nothing else is configured. */
  | 'EMBEDDED'
  /** Taken from SMTP_CONNECTION_URI because nothing is stored. */
  | 'ENVIRONMENT'
  /** Stored by configureSmtp. */
  | 'STORED';

export type Subscription = {
  __typename?: 'Subscription';
  /**
   * Events of every status change, oldest first. With `after` (an event cursor), the events after
   * it are replayed first, then live ones follow, with none lost or repeated in between.
   */
  messageEvents: MessageEvent;
};


export type SubscriptionMessageEventsArgs = {
  after?: InputMaybe<Scalars['String']['input']>;
  filter?: InputMaybe<MessageFilter>;
};



export type ResolverTypeWrapper<T> = Promise<T> | T;


export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;





/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  ConfigureSmtpInput: ConfigureSmtpInput;
  DeliveryError: ResolverTypeWrapper<DeliveryErrorModel>;
  DeliveryErrorCode: DeliveryErrorCode;
  Dispatch: ResolverTypeWrapper<DispatchModel>;
  Header: ResolverTypeWrapper<Header>;
  HeaderInput: HeaderInput;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  Message: ResolverTypeWrapper<MessageModel>;
  MessageConnection: ResolverTypeWrapper<Omit<MessageConnection, 'edges'> & { edges: Array<ResolversTypes['MessageEdge']> }>;
  MessageEdge: ResolverTypeWrapper<Omit<MessageEdge, 'node'> & { node: ResolversTypes['Message'] }>;
  MessageEvent: ResolverTypeWrapper<MessageEventModel>;
  MessageFilter: MessageFilter;
  MessageStatus: MessageStatus;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  SendEmailInput: SendEmailInput;
  SmtpConfig: ResolverTypeWrapper<SmtpConfigModel>;
  SmtpConfigSource: SmtpConfigSource;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  Boolean: Scalars['Boolean']['output'];
  ConfigureSmtpInput: ConfigureSmtpInput;
  DeliveryError: DeliveryErrorModel;
  Dispatch: DispatchModel;
  Header: Header;
  HeaderInput: HeaderInput;
  ID: Scalars['ID']['output'];
  Int: Scalars['Int']['output'];
  Message: MessageModel;
  MessageConnection: Omit<MessageConnection, 'edges'> & { edges: Array<ResolversParentTypes['MessageEdge']> };
  MessageEdge: Omit<MessageEdge, 'node'> & { node: ResolversParentTypes['Message'] };
  MessageEvent: MessageEventModel;
  MessageFilter: MessageFilter;
  Mutation: Record<PropertyKey, never>;
  PageInfo: PageInfo;
  Query: Record<PropertyKey, never>;
  SendEmailInput: SendEmailInput;
  SmtpConfig: SmtpConfigModel;
  String: Scalars['String']['output'];
  Subscription: Record<PropertyKey, never>;
};

export type DeliveryErrorResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['DeliveryError'] = ResolversParentTypes['DeliveryError']> = {
  code?: Resolver<ResolversTypes['DeliveryErrorCode'], ParentType, ContextType>;
  command?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  enhancedStatus?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hint?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  permanent?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  response?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  responseCode?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type DispatchResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Dispatch'] = ResolversParentTypes['Dispatch']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  attempt?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  durationMs?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  response?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  smtpConfigVersion?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  succeeded?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type HeaderResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Header'] = ResolversParentTypes['Header']> = {
  name?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  value?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type MessageResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Message'] = ResolversParentTypes['Message']> = {
  attempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  dispatches?: Resolver<Array<ResolversTypes['Dispatch']>, ParentType, ContextType>;
  events?: Resolver<Array<ResolversTypes['MessageEvent']>, ParentType, ContextType>;
  headers?: Resolver<Array<ResolversTypes['Header']>, ParentType, ContextType>;
  html?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  idempotencyKey?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  lastError?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  maxAttempts?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  messageId?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  nextAttemptAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  recipient?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  smtpConfigVersion?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['MessageStatus'], ParentType, ContextType>;
  subject?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  text?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  updatedAt?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
};

export type MessageConnectionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MessageConnection'] = ResolversParentTypes['MessageConnection']> = {
  edges?: Resolver<Array<ResolversTypes['MessageEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type MessageEdgeResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MessageEdge'] = ResolversParentTypes['MessageEdge']> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Message'], ParentType, ContextType>;
};

export type MessageEventResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['MessageEvent'] = ResolversParentTypes['MessageEvent']> = {
  at?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  attempt?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  error?: Resolver<Maybe<ResolversTypes['DeliveryError']>, ParentType, ContextType>;
  message?: Resolver<ResolversTypes['Message'], ParentType, ContextType>;
  previousStatus?: Resolver<Maybe<ResolversTypes['MessageStatus']>, ParentType, ContextType>;
  reason?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  status?: Resolver<ResolversTypes['MessageStatus'], ParentType, ContextType>;
};

export type MutationResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  cancelMessage?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationCancelMessageArgs, 'id'>>;
  configureSmtp?: Resolver<ResolversTypes['SmtpConfig'], ParentType, ContextType, RequireFields<MutationConfigureSmtpArgs, 'input'>>;
  retryMessage?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationRetryMessageArgs, 'id'>>;
  sendEmail?: Resolver<ResolversTypes['Message'], ParentType, ContextType, RequireFields<MutationSendEmailArgs, 'input'>>;
};

export type PageInfoResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
};

export type QueryResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  message?: Resolver<Maybe<ResolversTypes['Message']>, ParentType, ContextType, RequireFields<QueryMessageArgs, 'id'>>;
  messages?: Resolver<ResolversTypes['MessageConnection'], ParentType, ContextType, Partial<QueryMessagesArgs>>;
  smtpConfig?: Resolver<Maybe<ResolversTypes['SmtpConfig']>, ParentType, ContextType>;
  smtpConfigHistory?: Resolver<Array<ResolversTypes['SmtpConfig']>, ParentType, ContextType>;
};

export type SmtpConfigResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['SmtpConfig'] = ResolversParentTypes['SmtpConfig']> = {
  connectionUri?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  embedded?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  fromAddress?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  fromName?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  headers?: Resolver<Array<ResolversTypes['Header']>, ParentType, ContextType>;
  source?: Resolver<ResolversTypes['SmtpConfigSource'], ParentType, ContextType>;
  version?: Resolver<Maybe<ResolversTypes['Int']>, ParentType, ContextType>;
};

export type SubscriptionResolvers<ContextType = GraphQLContext, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  messageEvents?: SubscriptionResolver<ResolversTypes['MessageEvent'], "messageEvents", ParentType, ContextType, Partial<SubscriptionMessageEventsArgs>>;
};

export type Resolvers<ContextType = GraphQLContext> = {
  DeliveryError?: DeliveryErrorResolvers<ContextType>;
  Dispatch?: DispatchResolvers<ContextType>;
  Header?: HeaderResolvers<ContextType>;
  Message?: MessageResolvers<ContextType>;
  MessageConnection?: MessageConnectionResolvers<ContextType>;
  MessageEdge?: MessageEdgeResolvers<ContextType>;
  MessageEvent?: MessageEventResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  SmtpConfig?: SmtpConfigResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
};

