using Engram.Agent;
using Engram.Silo.Configuration;

namespace Engram.Silo.Hosting;

public static class EngramOptionsRegistration
{
    /// <summary>Binds and validates the settings every part shares; a bad value stops start-up with a clear message.</summary>
    public static WebApplicationBuilder AddEngramOptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<LmStudioOptions>().BindConfiguration(LmStudioOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LlmOptions>().BindConfiguration(LlmOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<HttpEndpointOptions>().BindConfiguration(HttpEndpointOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }
}
